"""Split: the fast way to cut lines whose free-text fields sit between quotes.

combined, vhost_combined, nginx's ``main`` and most custom formats are runs
of space-separated tokens with the free text (request, referrer, user agent)
in double quotes. Polars reads the batch's lines (``lines``) and cuts each
at its quotes, in Rust on every core: that costs a third of one whole-line
regex. What lies between the quotes is
then short, and the small expressions that check and cut it are cheap.

It is exact by construction. A line takes this path only when it has exactly
as many quotes as the format writes (or more, where the format lets any
fields follow its last one and the last piece ends in a space before
them: nginx ``main``'s extra ``"$http_x_forwarded_for"`` under
``combined``, ALB's trailing quoted fields), none of them escaped (no
backslash before a quote anywhere in the line), and every unquoted piece matches its part of
the format, anchored (``formats.build`` compiles those checks in the same
walk as the whole-line regex). Then each quote of the format can only be matched by
the line's quote of the same rank, so the whole-line regex of ``formats``
would capture the very same fields. Every other line (an escaped quote, a
line cut short, an empty user agent, junk) goes through that whole-line
regex as before, so both paths agree on every line. Batches that are not
valid UTF-8, or that the line reader does not take, are left to the regex
path whole.

A line is cut into one piece more than the format has: that piece is null
exactly on a line with no more quotes than the format writes, and the one
before it on a line with fewer.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .. import frames
from ..formats import CLIENT, LogFormat, Segment
from ..read.sources import Batch, holds
from .lines import batch_lines


@dataclass(frozen=True)
class Cut:
    """A batch read at its quotes; what is done with its pieces is left lazy, for the caller's query.

    ``fields``: ``idx``, ``line_no``, the fields ``parse`` would capture and
    ``line`` (null), for the lines the split takes. ``odd``: ``idx``,
    ``line_no`` and ``line``, the text of the lines it leaves to the line
    regex. Both read the cut and its checks, collected once by ``read``.
    """

    fields: pl.LazyFrame
    odd: pl.LazyFrame


def read(batch: Batch, fmt: LogFormat, *, counting: bool = False) -> Cut | None:
    """The batch cut at its quotes and checked against the format, as lazy frames.

    ``counting``: only the fields counting reads are wanted (no client).

    None when the batch is not for this path (no segments, not valid UTF-8,
    a byte the line reader cannot take): the caller parses it line by regex
    instead.
    """
    layout = fmt.segments
    if layout is None or (lines := batch_lines(batch)) is None:
        return None
    data = batch.data
    width = len(layout)
    # One piece more than the format has: it is null exactly on a line with no more quotes than the format's.
    names = [f"s{i}" for i in range(width + 1)]
    lf = lines.lazy().with_columns(
        line_no=(pl.col("idx") + batch.first_line).cast(pl.Int64),
        _pieces=pl.col("line").str.split_exact('"', width).struct.rename_fields(names),
    ).unnest("_pieces")
    # A JSON line's values are its text only when nothing in it is escaped: a line with a backslash in a
    # value is left to the decoder (checked on the pieces, by memchr; a batch without one skips it).
    # A control byte written raw (nginx's escape=none) is text here, as the decoder takes it too
    # (``json_lines._fitted``): looking for one cost a fifth of a JSON batch, for a line no server writes
    # by default.
    backslashes = fmt.is_json and holds(data, b"\\")
    if fmt.is_json:
        escaped: list[str] | None = None if backslashes else []  # (the pieces are tested, or there is no backslash)
    else:  # most batches hold no backslash before a quote, and the rest a few lines that do
        escaped = escaped_heads(data)
    wanted = [c for seg in layout for c in seg.captures if not (counting and c == CLIENT)]
    # Collected here: the checks and cuts are the costly part, and the lines taken, the odd lines and
    # the caller's query all read them (Polars' plan would not share them reliably).
    # A CR inside a line (not a CRLF line end's, which the reader drops) is in no field a server writes: a
    # line taken with more quotes than its format (``open_end``) must hold none past its last checked piece.
    cr = layout[-1].open_end is not None and holds(data, b"\r")
    lf = frames.collect(_cut(lf, layout, wanted, wide=False, escaped=escaped, backslashes=backslashes,
                             cr=cr)).lazy()
    quoted = [s.field for s in layout if s.regex is None and s.literal is None and s.field]
    keep = ["idx", *quoted, *wanted, "line_no"]
    fields = lf.filter(pl.col("_ok")).select(keep)
    odd = lf.filter(~pl.col("_ok")).select("idx", "line_no", "line", *names)
    if any(seg.wide for seg in layout):
        # A lazy field narrowed to one token missed (a client list "a, b"): the wide form, on those lines.
        again = _cut(odd, layout, wanted, wide=True, escaped=escaped, backslashes=backslashes, cr=cr)  # (few lines)
        fields = pl.concat([fields, again.filter(pl.col("_ok")).select(keep)])
        odd = again.filter(~pl.col("_ok"))
    return Cut(fields.with_columns(line=pl.lit(None, dtype=pl.String)), odd.select("idx", "line_no", "line"))


def escaped_heads(data: bytes, most: int = 256) -> list[str] | None:
    """The first pieces (the text before the first quote) of the lines holding a backslash before a quote.

    Such a line is left to the line regex. Found by memchr on the (rare)
    backslashes, then matched on the first piece, one comparison a line:
    cheaper than testing every piece of every line for a trailing
    backslash. A line that merely shares its first piece with one of them
    goes to the line regex too, which reads it the same. None when there
    are too many to look at (a log full of ``\\xHH``): the pieces are tested.
    """
    heads: set[str] = set()
    at, looked = data.find(b"\\"), 0
    while at >= 0:
        looked += 1
        if looked > 4 * most:
            return None
        if data[at + 1: at + 2] != b'"':
            at = data.find(b"\\", at + 1)
            continue
        start = data.rfind(b"\n", 0, at) + 1
        heads.add(data[start: data.find(b'"', start)].decode("utf-8", "replace"))
        if len(heads) > most:
            return None
        end = data.find(b"\n", at)  # the rest of this line is decided
        at = -1 if end < 0 else data.find(b"\\", end)
    return sorted(heads)


def cut(batch: Batch, fmt: LogFormat) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """(the fields of the lines split takes, the text of the lines it leaves to the regex), collected."""
    pieces = read(batch, fmt)
    if pieces is None:
        return None
    fields, odd = frames.collect_all([pieces.fields, pieces.odd])
    return fields, odd


def _cut(lf: pl.LazyFrame, layout: tuple[Segment, ...], wanted: list[str], *, wide: bool,
         escaped: list[str] | None, backslashes: bool = False, cr: bool = False) -> pl.LazyFrame:
    """The pieces checked against the format and cut into fields; ``_ok`` says which lines passed.

    ``wanted``: the captures to cut out (a piece whose wanted captures all
    have a ``Slice`` is checked by a plain yes/no and sliced; any other is
    captured by its regex). ``escaped``: the first pieces of the lines
    that hold a backslash before a quote (``escaped_heads``): a line whose
    first piece is one of them does not pass; None: unknown, and a line
    whose piece ends in a backslash (a piece that can, by the format:
    ``Segment.escapable``) does not pass. ``backslashes``: a line with a
    backslash in any piece does not pass. ``cr``: the batch holds a CR: a
    line with more quotes than the format holding one does not pass.
    """
    width = len(layout)
    more = pl.col(f"s{width}").is_not_null()
    ok = pl.col(f"s{width - 1}").is_not_null() & ~more  # exactly the format's quotes ...
    if layout[-1].open_end is not None:  # ... or more, where the format lets fields follow its last one
        extra = more & pl.col(f"s{width - 1}").str.contains(layout[-1].open_end)
        ok = ok | ((extra & ~pl.col("line").str.contains("\r", literal=True)) if cr else extra)
    if escaped:
        ok = ok & ~pl.col("s0").is_in(escaped)
    fields: list[pl.Expr] = []
    for i, seg in enumerate(layout):
        col = pl.col(f"s{i}")  # (null only past the last quote of a line that does not pass anyway)
        if backslashes and seg.literal is None:  # (a literal piece is checked to be its text)
            ok = ok & ~col.str.contains("\\", literal=True)
        elif escaped is None and seg.escapable and i < width - 1:
            ok = ok & ~col.str.ends_with("\\")  # an escaped quote: leave it to the regex
        if seg.literal is not None:
            ok = ok & (col == seg.literal)
        elif seg.regex is None:
            if seg.field is not None:
                fields.append(col.alias(seg.field))
        else:
            slices = {s.field: s for s in seg.slices}
            needed = [c for c in seg.captures if c in wanted]
            if not wide and all(c in slices for c in needed):
                ok = ok & col.str.contains(seg.regex)
                fields.extend(col.str.slice(slices[c].start, slices[c].width).alias(c) for c in needed)
            elif seg.captures:
                lf = lf.with_columns(col.str.extract_groups(seg.wide or seg.regex if wide else seg.regex)
                                     .alias(f"_g{i}")).unnest(f"_g{i}")
                ok = ok & pl.col(seg.captures[0]).is_not_null()
            else:
                ok = ok & col.str.contains(seg.wide or seg.regex if wide else seg.regex)
    return lf.with_columns(*fields, _ok=ok.fill_null(False))
