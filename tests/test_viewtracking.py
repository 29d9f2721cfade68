"""ViewTracking XML: layout, escaping, order, and the XSD round trip."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from lxml import etree

from logtrack.config import Config, Settings
from logtrack.errors import ConfigError, ExitCode, XmlInvalidError
from logtrack.flexmls import viewtracking


def counts(rows: list[tuple[date, str, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"day": pl.Date, "supplier": pl.String, "listing": pl.String,
                                      "views": pl.Int64}, orient="row")


EXPECTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<Views xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="ViewTracking.xsd">
  <View>
    <ViewDate>2026-11-01</ViewDate>
    <ViewSupplierName/>
    <Listings>
      <Listing>
        <ListingId>20231234</ListingId>
        <ViewCount>3</ViewCount>
      </Listing>
    </Listings>
  </View>
  <View>
    <ViewDate>2026-11-01</ViewDate>
    <ViewSupplierName>Homes &amp; Land &lt;HL&gt;</ViewSupplierName>
    <Listings>
      <Listing>
        <ListingId>1</ListingId>
        <ViewCount>1</ViewCount>
      </Listing>
      <Listing>
        <ListingId>2</ListingId>
        <ViewCount>12</ViewCount>
      </Listing>
    </Listings>
  </View>
  <View>
    <ViewDate>2026-11-02</ViewDate>
    <ViewSupplierName>Zillow</ViewSupplierName>
    <Listings>
      <Listing>
        <ListingId>1</ListingId>
        <ViewCount>7</ViewCount>
      </Listing>
    </Listings>
  </View>
</Views>
"""


def test_layout_order_and_escaping() -> None:
    rows = [
        (date(2026, 11, 2), "Zillow", "1", 7),
        (date(2026, 11, 1), "Homes & Land <HL>", "2", 12),
        (date(2026, 11, 1), "", "20231234", 3),
        (date(2026, 11, 1), "Homes & Land <HL>", "1", 1),
    ]
    document = viewtracking.build(counts(rows), Config())
    assert document == EXPECTED
    viewtracking.validate(document, "doc")


def test_no_views_is_a_valid_empty_document() -> None:
    document = viewtracking.build(counts([]), Config())
    viewtracking.validate(document, "doc")
    assert etree.fromstring(document).tag == "Views"


def test_namespace_and_schema_location_are_configuration() -> None:
    cfg = Config(settings=Settings(namespace="urn:flexmls:viewtracking", schema_location="ViewTracking-1.0.xsd"))
    root = etree.fromstring(viewtracking.build(counts([(date(2026, 11, 1), "Z", "1", 1)]), cfg))
    assert root.tag == "{urn:flexmls:viewtracking}Views"
    assert root.get(f"{{{viewtracking.XSI}}}schemaLocation") == "urn:flexmls:viewtracking ViewTracking-1.0.xsd"
    assert root.find("{urn:flexmls:viewtracking}View/{urn:flexmls:viewtracking}ViewSupplierName").text == "Z"


BROKEN = [
    (EXPECTED.replace(b"<ViewCount>3</ViewCount>", b"<ViewCount>0</ViewCount>"), 9, "ViewCount"),
    (EXPECTED.replace(b"<ViewCount>3</ViewCount>", b"<ViewCount>three</ViewCount>"), 9, "ViewCount"),
    (EXPECTED.replace(b"<ViewDate>2026-11-02</ViewDate>", b"<ViewDate>11/02/2026</ViewDate>"), 28, "ViewDate"),
    (EXPECTED.replace(b"    <ViewSupplierName/>\n", b""), 5, "Listings"),
    (EXPECTED.replace(b"<ViewDate>2026-11-02</ViewDate>\n    <ViewSupplierName>Zillow",
                      b"<ViewDate>2026-11-01</ViewDate>\n    <ViewSupplierName>"), 27, "Duplicate key"),
]


@pytest.mark.parametrize(("document", "line", "word"), BROKEN)
def test_broken_documents_are_rejected_with_their_line(document: bytes, line: int, word: str) -> None:
    with pytest.raises(XmlInvalidError) as err:
        viewtracking.validate(document, "doc.xml")
    assert str(err.value).startswith(f"doc.xml:{line}: ")
    assert word in str(err.value)


def test_cli_round_trip(cli, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text('1.2.3.4 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/42 HTTP/1.1" 200 5 "-" "Mozilla/5.0"\n')
    out_file = tmp_path / "views.xml"
    assert cli("xml", str(log), "--listing-pattern", r"^/listing/(?P<id>\d+)$", "-o", str(out_file), "-q")[0] == 0
    code, out, _ = cli("validate", str(out_file))
    assert (code, out.decode()) == (0, f"{out_file}: valid\n")

    bad = tmp_path / "bad.xml"
    bad.write_bytes(out_file.read_bytes().replace(b"<ViewCount>1<", b"<ViewCount>-1<"))
    code, _, err = cli("validate", str(bad))
    assert code == ExitCode.INVALID_XML
    assert err.startswith(f"logtrack: error: {bad}:9: Element 'ViewCount': ")
    assert err.endswith("(checked against the shipped ViewTracking.xsd)\n")

    junk = tmp_path / "junk.xml"
    junk.write_bytes(b"<Views><View></Views>")
    code, _, err = cli("validate", str(junk))
    assert code == ExitCode.INVALID_XML
    assert err.startswith(f"logtrack: error: {junk}:1: not well-formed XML: ")


def test_validate_with_another_xsd(cli, tmp_path: Path) -> None:
    xsd = tmp_path / "strict.xsd"
    xsd.write_text(viewtracking.shipped_xsd().read_text().replace(
        'name="ViewCount" type="xs:positiveInteger"', 'name="ViewCount" type="xs:byte"'))
    doc = tmp_path / "v.xml"
    doc.write_bytes(EXPECTED.replace(b"<ViewCount>12<", b"<ViewCount>1200<"))
    assert cli("validate", str(doc))[0] == 0
    code, _, err = cli("validate", str(doc), "--xsd", str(xsd))
    assert code == ExitCode.INVALID_XML
    assert f"(checked against {xsd})" in err


def test_external_entities_are_not_resolved(cli, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    doc = tmp_path / "xxe.xml"
    doc.write_text(f'<?xml version="1.0"?><!DOCTYPE v [<!ENTITY x SYSTEM "file://{secret}">]>'
                   "<Views><View><ViewDate>2026-11-01</ViewDate><ViewSupplierName>&x;</ViewSupplierName>"
                   "<Listings><Listing><ListingId>1</ListingId><ViewCount>1</ViewCount></Listing></Listings>"
                   "</View></Views>")
    _, out, err = cli("validate", str(doc))
    assert "TOPSECRET" not in out.decode() + err


def test_doctype_is_refused(cli, tmp_path: Path) -> None:
    doc = tmp_path / "dtd.xml"
    doc.write_bytes(b'<?xml version="1.0"?><!DOCTYPE Views [<!ENTITY a "b">]>' + EXPECTED.split(b"?>", 1)[1])
    code, _, err = cli("validate", str(doc))
    assert code == ExitCode.INVALID_XML
    assert err == f"logtrack: error: {doc}:1: a DOCTYPE is not allowed in a ViewTracking document\n"


@pytest.mark.parametrize("listings", [
    ["1<2&3>", "plain"],
    ["a\nb", "a\rb"],  # a parser reads a raw CR as a line end: written as a character reference, or "a\nb" twice
    ["a\r\nb", "tab\there", "x]]>y"],
])
def test_text_is_escaped_and_reads_back(listings: list[str]) -> None:
    """Listing ids and supplier names with XML's own characters come back as they were."""
    views = list(range(4, 4 + len(listings)))
    counts = pl.DataFrame({"day": [date(2026, 11, 1)] * len(listings), "supplier": ["A&B <x>\r"] * len(listings),
                           "listing": listings, "views": views})
    document = viewtracking.render(counts, Config(), check=True)
    assert document == viewtracking.build(counts, Config()) == viewtracking.serialize(
        viewtracking.build_tree(counts, Config()))
    root = etree.fromstring(document)
    assert [e.text for e in root.iter("ViewSupplierName")] == ["A&B <x>\r"]
    assert [(e.findtext("ListingId"), e.findtext("ViewCount")) for e in root.iter("Listing")] == [
        (listing, str(n)) for listing, n in sorted(zip(listings, views, strict=True))]  # (in key order)


D1, D2 = date(2026, 11, 1), date(2026, 11, 2)


@pytest.mark.parametrize(("keys", "twice"), [
    ([(D1, "Z", "1"), (D1, "Z", "1")], True),
    ([(D1, "Z", "1"), (D2, "Z", "2"), (D1, "A", "1"), (D1, "Z", "1")], True),  # apart until sorted
    ([(D1, None, "1"), (D1, None, "1")], True),
    ([(D1, "Z", "1"), (D2, "Z", "1"), (D1, "A", "1"), (D1, "Z", "2"), (D1, None, "1")], False),
    ([(D1, "Z", "1")], False),
])
def test_counts_with_a_repeated_key_are_refused(keys: list[tuple[date, str | None, str]], twice: bool) -> None:
    """build_tree and render are what make the XSD's xs:unique hold for generated documents."""
    counts = pl.DataFrame({"day": [k[0] for k in keys], "supplier": [k[1] for k in keys],
                           "listing": [k[2] for k in keys], "views": list(range(1, len(keys) + 1))})
    for make in (lambda: viewtracking.build_tree(counts, Config()), lambda: viewtracking.build(counts, Config())):
        if twice:
            with pytest.raises(XmlInvalidError, match="counted twice"):
                make()
        else:
            make()


def test_generated_documents_meet_the_whole_xsd() -> None:
    """The lighter check of generated trees passes only what the full XSD passes too."""
    rows = [(date(2026, 11, d), s, str(n), n) for d in (1, 2) for s in ("", "Zillow") for n in range(1, 40)]
    root = viewtracking.build_tree(counts(rows), Config())
    viewtracking.validate_tree(root)
    viewtracking.validate(viewtracking.serialize(root), "generated")  # the full XSD, xs:unique included


@pytest.mark.parametrize("check", [True, False])
def test_document_is_the_serialized_tree_checked_or_not(check: bool) -> None:
    """``document`` validates beside serializing; either way the bytes are the tree's."""
    rows = [(date(2026, 11, d), s, str(n), n) for d in (1, 2) for s in ("", "Zillow") for n in range(1, 40)]
    root = viewtracking.build_tree(counts(rows), Config())
    assert viewtracking.document(root, check=check) == viewtracking.serialize(root)


def test_document_refuses_an_invalid_tree_when_it_checks() -> None:
    """The validation on its own thread still stops the document: its error comes out of ``document``."""
    root = viewtracking.build_tree(counts([(date(2026, 11, 1), "Z", "1", 1)]), Config())
    next(root.iter("ViewCount")).text = "many"  # not an integer
    assert viewtracking.document(root, check=False).count(b"many") == 1
    with pytest.raises(XmlInvalidError, match="ViewCount"):
        viewtracking.document(root, check=True)


MANY = [(date(2026, 11, d), s, str(n), n) for d in (1, 2, 3) for s in ("", "A&B <x>", "Zillow")
        for n in range(1, 30)]


@pytest.mark.parametrize(("namespace", "check"), [("", True), ("", False), ("urn:flexmls:viewtracking", False)])
@pytest.mark.parametrize("rows", [MANY, MANY[:1], [], [(date(2026, 11, 1), "Z", "1<2&3>", 4)]],
                         ids=["many", "one", "none", "escaped"])
@pytest.mark.parametrize("slice_rows", [1, 30, 100_000])  # listings made into XML at once: smaller than a View too
def test_render_writes_the_whole_trees_document(monkeypatch: pytest.MonkeyPatch, namespace: str,
                                                rows: list[tuple[date, str, str, int]], check: bool,
                                                slice_rows: int) -> None:
    """One View at a time, the same bytes as the whole tree serialized (its golden files rest on that)."""
    cfg = Config(settings=Settings(namespace=namespace))
    monkeypatch.setattr(viewtracking, "SLICE_ROWS", slice_rows)
    document = viewtracking.render(counts(rows), cfg, check=check)
    assert b"".join(viewtracking.chunks(counts(rows), cfg, check=check)) == document
    monkeypatch.setattr(viewtracking, "SLICE_ROWS", 10**9)
    assert document == viewtracking.serialize(viewtracking.build_tree(counts(rows), cfg))
    if not namespace:
        viewtracking.validate(document, "rendered")  # the full XSD, xs:unique included


def test_render_refuses_an_invalid_view_when_it_checks() -> None:
    """A View the XSD refuses (a count of 0: not a positive integer) stops the document, as ``document`` does."""
    rows = [*MANY[:5], (date(2026, 11, 9), "Z", "1", 0)]
    assert b"<ViewCount>0</ViewCount>" in viewtracking.render(counts(rows), Config(), check=False)
    with pytest.raises(XmlInvalidError, match="ViewCount"):
        viewtracking.render(counts(rows), Config(), check=True)


def test_render_writes_each_view_before_it_makes_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory of a preview over many days: a View's tree is written (and let go) before the next one is
    made, not kept to the end with all the others (a tree costs five times its document)."""
    made: list[int] = []  # per View made: how many had been written by then
    written: list[int] = []
    roots, body = viewtracking._view_roots, viewtracking._body

    def counted(*args: object) -> Iterator[etree._Element]:
        for root in roots(*args):  # type: ignore[arg-type]
            made.append(len(written))
            yield root

    def noted(root: etree._Element) -> bytes:
        written.append(len(made))
        return body(root)

    monkeypatch.setattr(viewtracking, "_view_roots", counted)
    monkeypatch.setattr(viewtracking, "_body", noted)
    rows = [(date(2026, 10, 1) + timedelta(days=d), "Z", str(n), 1) for d in range(40) for n in range(50)]
    document = viewtracking.render(counts(rows), Config(), check=True)
    assert document.count(b"<View>") == len(made) == len(written) == 40
    assert made == list(range(40))


@pytest.mark.parametrize("namespace", ["http://x:port/ViewTracking", "urn:a#b#c"])
def test_a_namespace_lxml_refuses_is_a_config_error(namespace: str) -> None:
    """The config checks a namespace's shape; what libxml2 still refuses is said as the config's mistake."""
    config = Config(settings=Settings(namespace=namespace), source="site.toml")
    with pytest.raises(ConfigError, match=re.escape(f"site.toml: [viewtracking] namespace {namespace!r}: ")):
        viewtracking.build_tree(counts([(date(2026, 11, 1), "Z", "1", 1)]), config)


def test_views_are_made_into_xml_a_slice_of_whole_views_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory of a year's export: the listings' XML text is made for some ``SLICE_ROWS`` listings at a
    time (never splitting a View), not for all of them at once."""
    sizes = [3, 1, 5, 2]
    rows = [(date(2026, 11, 1 + v), "Z", str(n), 1) for v, size in enumerate(sizes) for n in range(size)]
    monkeypatch.setattr(viewtracking, "SLICE_ROWS", 4)
    ordered = counts(rows).sort(["day", "supplier", "listing"])
    assert [part.height for part in viewtracking._slices(ordered)] == [4, 5, 2]


def test_chunks_give_each_view_out_before_the_next_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """``export`` writes the pieces as they come: a View is out before the next one's tree is made."""
    made: list[int] = []
    roots = viewtracking._view_roots

    def counted(*args: object) -> Iterator[etree._Element]:
        for root in roots(*args):  # type: ignore[arg-type]
            made.append(1)
            yield root

    monkeypatch.setattr(viewtracking, "_view_roots", counted)
    rows = [(date(2026, 10, 1) + timedelta(days=d), "Z", str(n), 1) for d in range(5) for n in range(3)]
    pieces = viewtracking.chunks(counts(rows), Config(), check=False)
    assert next(pieces).startswith(b"<?xml") and b"<View>" in next(pieces) and len(made) == 1
    assert b"".join(pieces).count(b"<View>") == 4 and len(made) == 5


@pytest.mark.parametrize(("keys", "in_order"), [
    ([], True),
    ([(D1, "Z", "1")], True),
    ([(D1, "", "9"), (D1, "A", "1"), (D1, "Z", "1"), (D1, "Z", "10"), (D1, "Z", "2"), (D2, "", "1")], True),
    ([(D1, "Z", "1"), (D1, "Z", "1")], False),  # a key twice: sorted, and refused
    ([(D1, "Z", "2"), (D1, "Z", "10")], False),  # listings as text: "10" before "2"
    ([(D2, "A", "1"), (D1, "Z", "1")], False),
    ([(D1, "a", "1"), (D1, "B", "1")], False),  # by bytes, as SQLite orders text (not a locale's collation)
    ([(D1, None, "1"), (D1, None, "2")], False),  # (nulls: sorted, to be sure)
])
def test_counts_already_in_key_order_are_not_sorted_again(keys: list[tuple[date, str | None, str]],
                                                          in_order: bool) -> None:
    frame = pl.DataFrame({"day": [k[0] for k in keys], "supplier": [k[1] for k in keys],
                          "listing": [k[2] for k in keys], "views": [1] * len(keys)},
                         schema={"day": pl.Date, "supplier": pl.String, "listing": pl.String, "views": pl.Int64})
    assert viewtracking._in_key_order(frame) is in_order
    if keys and len(set(keys)) == len(keys):  # either way, the document of the keys in order
        assert viewtracking.build(frame.reverse(), Config()) == viewtracking.build(frame.sort(viewtracking.KEYS),
                                                                                    Config())
