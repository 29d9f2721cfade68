"""One self-contained HTML page of charts: views by day and supplier, by week, top listings, outcomes, uploads.

Why Vega-Lite through Altair, rendered to SVG at build time by vl-convert
(Vega's own renderer, in Rust, inside a wheel): the page then holds no
script at all, so it works offline, as an e-mail attachment and in a
locked-down browser, makes no network request, and weighs tens of kB where
an embedded plotting library weighs megabytes. Vega's SVG marks carry an
``aria-label`` with their data (``day: 2026-11-01; supplier: Zillow;
views: 12``), which screen readers read out and the tests check against the
state. Colours come from viridis, whose steps differ in lightness, so the
stacks survive a grey printout and every common kind of colour blindness;
white seams separate them as well.

Needs the ``html`` extra (``pip install 'logtrack[html]'``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import ConfigError
from ..verdicts.reasons import Outcome
from .report_data import Period, named_supplier

if TYPE_CHECKING:
    import polars as pl

    from ..state.store import Upload

TOP = 20
WIDTH = 640
OUTCOME_ORDER = [o.value for o in Outcome]
# Outcome colours, dark to light (viridis steps): views darkest, damaged lightest
OUTCOME_COLOURS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"]


@dataclass
class StateFacts:
    """What only the state knows: uploads, pending and frozen days."""

    uploads: list[Upload] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)


def build(counts: pl.DataFrame, outcomes: pl.DataFrame, period: Period, source: str,
          by_month: bool = False, facts: StateFacts | None = None, top: int = TOP) -> bytes:
    """The page, as UTF-8 bytes."""
    try:
        import altair as alt
        import vl_convert as vlc
    except ImportError:
        raise ConfigError("the HTML report needs Altair and vl-convert",
                          "pip install 'logtrack[html]'") from None

    sections = [
        ("Views per day, by supplier", _per_day(alt, counts)),
        (f"Views per {'month' if by_month else 'week'}, by supplier", _per_period(alt, counts, by_month)),
        (f"Top {top} listings, with their views per day", _top(alt, counts, top)),
        ("Lines by outcome per day", _outcomes(alt, outcomes)),
    ]
    parts = [_head(source, period, counts)]
    for title, chart in sections:
        if chart is None:
            parts.append(f"<section><h2>{html.escape(title)}</h2><p class=empty>Nothing in this period.</p></section>")
            continue
        # Altair refuses a chart of over 5,000 rows, a guard for a browser sent them to draw: a year's top
        # listings by day are 7,300. Drawn here into SVG, only the points reach the page.
        with alt.data_transformers.disable_max_rows():
            spec = chart.to_json()
        svg = vlc.vegalite_to_svg(spec)
        parts.append(f'<section><h2>{html.escape(title)}</h2><div class=chart>{svg}</div></section>')
    if facts is not None:
        parts.append(_uploads(facts))
    parts.append(f"<footer>logtrack {html.escape(__version__)}, "
                 f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}</footer></body></html>\n")
    return "\n".join(parts).encode()


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:720px;
padding:12px;color:#111;background:#fff}
h1{font-size:1.4em;margin:.3em 0}h2{font-size:1.1em;margin:1.4em 0 .4em;border-bottom:1px solid #ccc}
.chart svg{max-width:100%;height:auto}.chart{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.92em}td,th{border-bottom:1px solid #ddd;padding:3px 6px;
text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
.facts{display:flex;flex-wrap:wrap;gap:8px 24px}.facts div{min-width:120px}.facts b{display:block;font-size:1.3em}
.empty,footer{color:#555}footer{margin-top:2em;font-size:.85em}
@media print{body{max-width:none}}
"""


def _head(source: str, period: Period, counts: pl.DataFrame) -> str:
    views = int(counts.get_column("views").sum()) if counts.height else 0
    days = counts.get_column("day").n_unique() if counts.height else 0
    listings = counts.get_column("listing").n_unique() if counts.height else 0
    facts = "".join(f"<div><b>{v:,}</b>{html.escape(k)}</div>"
                    for k, v in (("views", views), ("listings", listings), ("days", days)))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">"
        f"<title>logtrack report: {html.escape(period.label())}</title><style>{_CSS}</style></head><body>"
        f"<h1>Listing views, {html.escape(period.label())}</h1>"
        f"<p>From {html.escape(source)}.</p><div class=facts id=facts>{facts}</div>"
    )


def _colour(alt: Any, field_name: str, title: str) -> Any:
    return alt.Color(f"{field_name}:N", title=title, scale=alt.Scale(scheme="viridis"),
                     legend=alt.Legend(orient="bottom", columns=3, labelLimit=200))


def _per_day(alt: Any, counts: pl.DataFrame) -> Any:
    if not counts.height:
        return None
    import polars as pl

    frame = _supplier_views(counts, pl.col("day").cast(pl.String), "day")
    return alt.Chart(frame).mark_bar(stroke="white", strokeWidth=0.7).encode(
        x=alt.X("day:O", title=None, axis=alt.Axis(labelAngle=-60)),
        y=alt.Y("views:Q", title="views", stack="zero"),
        color=_colour(alt, "supplier", "supplier"),
        order=alt.Order("supplier:N"),
    ).properties(width=WIDTH, height=260)


def _per_period(alt: Any, counts: pl.DataFrame, by_month: bool) -> Any:
    if not counts.height:
        return None
    import polars as pl

    key = pl.col("day").dt.strftime("%Y-%m") if by_month else pl.col("day").dt.truncate("1w").cast(pl.String)
    name = "month" if by_month else "week"
    frame = _supplier_views(counts, key, name)
    return alt.Chart(frame).mark_bar(stroke="white", strokeWidth=0.7).encode(
        x=alt.X(f"{name}:O", title=None if by_month else "week (from its Monday)", axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("supplier:N"),
        y=alt.Y("views:Q", title="views"),
        color=_colour(alt, "supplier", "supplier"),
    ).properties(width=WIDTH, height=240)


def _supplier_views(counts: pl.DataFrame, key: pl.Expr, name: str) -> pl.DataFrame:
    """Views per (``key`` as ``name``, supplier's name), in that order. The name is worked out as the group's
    key, not as a column of a copy of every count (85 MB for a year)."""
    import polars as pl

    return (counts.lazy().group_by(key.alias(name), named_supplier()).agg(pl.col("views").sum())
            .sort(name, "supplier").collect())


def _top(alt: Any, counts: pl.DataFrame, top: int) -> Any:
    if not counts.height:
        return None
    import polars as pl

    best = (counts.group_by("listing").agg(pl.col("views").sum())
            .sort(["views", "listing"], descending=[True, False]).head(top))
    days = counts.select(pl.col("day").unique().sort())
    labels = pl.DataFrame({"listing": best.get_column("listing"),
                           "label": [f"{listing} ({views:,} views)" for listing, views in best.iter_rows()]})
    grid = best.select("listing", total="views").join(days, how="cross").join(labels, on="listing")
    # (the best listings' days alone: every listing's, 2.9 million rows for a year, took 450 MB)
    per_day = (counts.lazy().join(best.lazy().select("listing"), on="listing", how="semi")
               .group_by("listing", "day").agg(pl.col("views").sum()).collect())
    frame = (grid.join(per_day, on=["listing", "day"], how="left")
             .with_columns(pl.col("views").fill_null(0), pl.col("day").cast(pl.String))
             .sort("total", "listing", "day", descending=[True, False, False]))
    order = frame.unique("label", maintain_order=True).get_column("label").to_list()
    return alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=12), color="#3b528b").encode(
        x=alt.X("day:O", title=None, axis=None),
        y=alt.Y("views:Q", title=None, axis=alt.Axis(tickCount=2, grid=False)),
    ).properties(width=WIDTH - 230, height=26).facet(
        row=alt.Row("label:N", sort=order, title=None, header=alt.Header(labelAngle=0, labelAlign="left",
                                                                         labelLimit=220, labelFontSize=12)),
        spacing=4,
    ).resolve_scale(y="independent")


def _outcomes(alt: Any, outcomes: pl.DataFrame) -> Any:
    if not outcomes.height:
        return None
    import polars as pl

    frame = outcomes.with_columns(day=pl.col("day").cast(pl.String).fill_null("no time")).sort("day")
    return alt.Chart(frame).mark_bar(stroke="white", strokeWidth=0.7).encode(
        x=alt.X("day:O", title=None, axis=alt.Axis(labelAngle=-60)),
        y=alt.Y("lines:Q", title="lines", stack="zero"),
        color=alt.Color("outcome:N", title="outcome", sort=OUTCOME_ORDER,
                        scale=alt.Scale(domain=OUTCOME_ORDER, range=OUTCOME_COLOURS),
                        legend=alt.Legend(orient="bottom", columns=3)),
        order=alt.Order("rank:Q"),
    ).transform_calculate(
        rank=" + ".join(f"(datum.outcome == '{o}') * {i}" for i, o in enumerate(OUTCOME_ORDER))
    ).properties(width=WIDTH, height=240)


def _uploads(facts: StateFacts) -> str:
    def days(items: list[str]) -> str:
        return html.escape(", ".join(items)) if items else "none"

    rows = "".join(
        f"<tr><td>{datetime.fromtimestamp(u.at, UTC).strftime('%Y-%m-%d %H:%M UTC')}</td>"
        f"<td>{html.escape(', '.join(u.days))}</td><td>{'accepted' if u.ok else 'failed'}</td>"
        f"<td>{html.escape(u.message if not u.ok else str(u.http_status or ''))}</td></tr>"
        for u in reversed(facts.uploads)
    )
    table = ("<table id=uploads><thead><tr><th>when</th><th>days</th><th>result</th><th>answer</th></tr></thead>"
             f"<tbody>{rows}</tbody></table>" if rows else "<p class=empty>Nothing was posted in this period.</p>")
    return (
        "<section><h2>Posted to flexmls</h2>"
        f"<p id=pending>Days pending: {days(facts.pending)}.</p>"
        f"<p id=frozen>Days frozen (not posted again: flexmls keeps what it was sent): {days(facts.frozen)}.</p>"
        f"{table}</section>"
    )
