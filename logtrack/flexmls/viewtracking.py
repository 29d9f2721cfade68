"""ViewTracking XML: build it with lxml from the counts, and validate it.

Text goes into the tree as element text, so lxml escapes supplier names and
listing ids; nothing here formats XML by hand. Parsing (for validation) never
resolves entities or touches the network, since documents may come from
anywhere.
"""

from __future__ import annotations

import copy
import html
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from pathlib import Path

import polars as pl
from lxml import etree

from ..config import Config
from ..errors import ConfigError, InputError, XmlInvalidError

XSI = "http://www.w3.org/2001/XMLSchema-instance"


def shipped_xsd() -> Path:
    """Path of the XSD that ships inside the package.

    (Beside this module, as package data: lxml reads it by path, so the
    package must be installed as files anyway, and ``importlib.resources``
    would add some 6 ms to every start.)
    """
    return Path(__file__).parent / "schema" / "ViewTracking.xsd"


def build_tree(counts: pl.DataFrame, config: Config) -> etree._Element:
    """Counts -> a ViewTracking tree: one View per (day, supplier), in key order.

    The whole document as one tree: for a document checked against a user's
    XSD, whose constraints may span Views. ``render`` writes the same
    document one View at a time.
    """
    root = empty_root(config)
    for one in _view_roots(counts, config):
        root.append(one[0])
    if config.settings.namespace:
        etree.cleanup_namespaces(root)  # the fragments' own xmlns, now said once at the root
    return root


def _view_roots(counts: pl.DataFrame, config: Config) -> Iterator[etree._Element]:
    """One ``<Views>`` root per (day, supplier), in key order, each holding that View alone."""
    ns = config.settings.namespace
    q = (lambda tag: f"{{{ns}}}{tag}") if ns else (lambda tag: tag)
    empty = empty_root(config)

    # Listings are many (one per listing, day and supplier) and Views few:
    # each View's listings are written by Polars as one compact fragment,
    # text escaped, and parsed by lxml, whose parser checks it; a Python
    # call per element would cost several microseconds each. (As bytes,
    # UTF-8 as Polars writes it: a str was copied into one, and lxml
    # parses bytes without the GIL, while the next fragments are made.)
    view_tag, date_tag, supplier_tag = q("View"), q("ViewDate"), q("ViewSupplierName")
    # (quoted by html.escape: xml.sax's quoteattr imports urllib and ssl, a tenth of a second's start)
    wrap = (f'<Listings xmlns="{html.escape(ns)}">' if ns else "<Listings>").encode()
    parser = _safe_parser()
    sub = etree.SubElement
    for day, supplier, listings in _view_fragments(counts):
        root = copy.copy(empty)
        view = sub(root, view_tag)
        sub(view, date_tag).text = day
        sub(view, supplier_tag).text = supplier or None
        view.append(etree.fromstring(b"".join((wrap, listings, b"</Listings>")), parser))
        yield root


def _view_fragments(counts: pl.DataFrame) -> Iterator[tuple[str, str | None, bytes]]:
    """Each View's day, supplier and listings' fragment (``_fragments``), in key order; a key twice is refused.

    The fragments of each slice of Views (``_slices``) are made on a thread
    of their own while the slice before is made into trees: Polars lets go
    of the GIL, and works on another core meanwhile. With the fragments
    given to lxml as bytes, an ``export`` of a year's state (4.8 million
    listings in 1,460 Views) took 10.0 s against 11.8 and 7 % less CPU
    (five interleaved rounds, faster in each: ``benchmarks/NOTES.md``).
    """
    ordered = counts if _in_key_order(counts) else counts.sort(KEYS)
    # (side by side once sorted: a hash of every key, as ``is_duplicated`` makes, took a gigabyte for a year)
    if ordered is not counts and ordered.height > 1 and ordered.select(
            pl.all_horizontal(pl.col(key).eq_missing(pl.col(key).shift()) for key in KEYS).any()).item():
        raise XmlInvalidError("generated document: a (day, supplier, listing) is counted twice; "
                              "this is a bug in logtrack, please report it")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="logtrack-fragments") as ahead:
        made: Future[pl.DataFrame] | None = None
        for part in _slices(ordered):
            making = ahead.submit(_fragments, part)
            if made is not None:
                yield from made.result().iter_rows()
            made = making
        if made is not None:
            yield from made.result().iter_rows()


KEYS = ["day", "supplier", "listing"]


def _in_key_order(counts: pl.DataFrame) -> bool:
    """Whether each row's key is above the one before it: the counts are in key order, each key once.

    The state gives its totals so (SQLite orders text by its bytes, as
    Polars does); sorting them again cost a year's export 450 MB. Counts
    in any other order (PostgreSQL's collation, a preview's) are sorted.
    """
    above = pl.lit(False)
    for key in reversed(KEYS):  # (day above, or the same day and the rest above: from the last key back)
        now, before = pl.col(key), pl.col(key).shift()
        above = (now > before) | ((now == before) & above)
    return bool(counts.select(above.slice(1).fill_null(False).all()).item())


# Listings whose fragments are made at once (``_slices``): a few megabytes of text (two slices' at a time: the one
# made into trees and the next), where a year's counts of a busy site (5 million listings across its Views) made
# 400 MB of them at once.
SLICE_ROWS = 100_000


def _slices(ordered: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """The counts, in key order, in slices of whole Views of about ``SLICE_ROWS`` listings (a View larger
    than that alone)."""
    # where each View ends (a boolean a row, then a few thousand positions: a group_by held 140 MB for a year)
    starts = ordered.select((pl.col("day").ne_missing(pl.col("day").shift())
                             | pl.col("supplier").ne_missing(pl.col("supplier").shift())).arg_true()).to_series()
    start = end = 0  # the slice so far: whole Views from ``start`` to ``end``
    for view_end in [*starts.to_list()[1:], ordered.height]:
        if end > start and view_end - start > SLICE_ROWS:
            yield ordered.slice(start, end - start)
            start = end
        end = view_end
    if end > start:
        yield ordered.slice(start, end - start)


def _fragments(part: pl.DataFrame) -> pl.DataFrame:
    """Each View's (day, supplier) and its listings as one fragment of XML (bytes), text escaped, in key order."""
    # escaped as lxml's serializer escapes text; a CR too: a parser reads a raw one as a line end, so a listing
    # "a\rb" came out as "a\nb" (another listing's id, where one was counted too)
    text = pl.col("listing")
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        text = text.str.replace_all(char, entity, literal=True)
    return (
        part.group_by(["day", "supplier"], maintain_order=True)
        .agg(xml=pl.concat_str(
            pl.lit("<Listing><ListingId>"), text, pl.lit("</ListingId><ViewCount>"),
            pl.col("views").cast(pl.String), pl.lit("</ViewCount></Listing>"),
        ).str.join("").cast(pl.Binary))
        .select(pl.col("day").dt.to_string("%Y-%m-%d"), "supplier", "xml")
    )


def render(counts: pl.DataFrame, config: Config, *, check: bool) -> bytes:
    """Counts -> the ViewTracking document ``build_tree`` and ``document`` make, byte for byte, with
    ``check`` validated against the shipped XSD (``validate_tree``), one View at a time (``chunks``);
    every View checked before the document is returned."""
    return b"".join(chunks(counts, config, check=check))


def chunks(counts: pl.DataFrame, config: Config, *, check: bool) -> Iterator[bytes]:
    """The document ``render`` makes, in pieces: each View once it is made (and, with ``check``, validated
    against the shipped XSD), for a writer that takes them one by one (``output.write_file``).

    Why: a tree costs some 530 bytes a listing, the document 100. A preview
    of a year of a busy site's logs (5 million listings across its Views)
    held its whole tree, gigabytes, where one View's tree at a time holds
    megabytes; and an export of that year, written as it is made, holds
    no more than its counts. A View's place in the document does not
    change how it is written (pretty-printed, its siblings are elements
    too) nor whether it is valid (the XSD's only constraints across Views
    are the xs:unique ones ``validate_tree`` leaves out, which the grouping
    makes hold). Each View is checked on a thread while it is serialized
    (lxml lets go of the GIL for both; both only read the tree); its tree
    is let go once its bytes are out.
    """
    ns = config.settings.namespace
    head = tail = b""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="logtrack-xsd") as pool:
        for root in _view_roots(counts, config):
            if ns:
                etree.cleanup_namespaces(root)  # the fragment's own xmlns, said at the root
            checked = pool.submit(validate_tree, root) if check else None
            part = _body(root)
            if checked:
                checked.result()  # an invalid View raises here, before it is given out
            # each part is a whole <Views> around one View: its first and last lines are the same in every part
            if not tail:
                head, tail = part[:part.index(b"\n") + 1], part[part.rindex(b"<"):]
                yield _DECLARATION + head
            yield part[len(head):len(part) - len(tail)]
    if not tail:  # no View: the empty root, as one tag
        yield serialize(empty_root(config))
        return
    yield tail


def _body(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=False, encoding="UTF-8", pretty_print=True))


def empty_root(config: Config) -> etree._Element:
    """``<Views>`` with its namespace and schema location; a namespace lxml refuses is the config's mistake.

    (The config checks a namespace's shape; libxml2 holds it to all of
    RFC 3986, ports of digits and one fragment, which it tells best.)
    """
    ns, location = config.settings.namespace, config.settings.schema_location
    nsmap: dict[str | None, str] = {"xsi": XSI, **({None: ns} if ns else {})}  # None: the default namespace
    try:
        root = etree.Element(f"{{{ns}}}Views" if ns else "Views", nsmap=nsmap)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigError(f"{config.source}: [viewtracking] namespace {ns!r}: {exc}",
                          "write the namespace the official XSD declares (its targetNamespace), or leave it "
                          "empty") from None
    if ns:
        root.set(f"{{{XSI}}}schemaLocation", f"{ns} {location}")
    else:
        root.set(f"{{{XSI}}}noNamespaceSchemaLocation", location)
    return root


_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def serialize(root: etree._Element) -> bytes:
    return _DECLARATION + _body(root)


def document(root: etree._Element, *, check: bool, xsd: Path | None = None) -> bytes:
    """The tree as a document; with ``check``, validated too (``validate_tree``), on a thread of its own meanwhile.

    lxml lets go of the GIL while it validates and while it serializes,
    and both only read the tree: side by side they take the time of the
    longer one (some 25 ms each for 300,000 elements), not of the two.
    """
    if not check:
        return serialize(root)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="logtrack-xsd") as pool:
        checked = pool.submit(validate_tree, root, xsd)
        body = serialize(root)
        checked.result()  # an invalid tree raises here, before anything is written
    return body


def build(counts: pl.DataFrame, config: Config) -> bytes:
    """Counts -> a ViewTracking document, unchecked (``render``)."""
    return render(counts, config, check=False)


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )


def load_schema(xsd: Path | None = None) -> etree.XMLSchema:
    path = xsd or shipped_xsd()
    try:
        return etree.XMLSchema(etree.parse(str(path), _safe_parser()))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the XSD: {exc}") from None
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise InputError(f"{path}: not a usable XML schema: {exc}") from None


def validate(document: bytes, name: str, xsd: Path | None = None) -> None:
    """Raise XmlInvalidError naming the first error and its line."""
    schema = load_schema(xsd)
    try:
        tree = etree.fromstring(document, _safe_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno is not None else "?"
        raise XmlInvalidError(f"{name}:{line}: not well-formed XML: {exc.msg}") from None
    _check(schema, tree, name, xsd)


def validate_tree(root: etree._Element, xsd: Path | None = None) -> None:
    """Validate a tree logtrack built; errors name the element, not a line.

    Against the shipped XSD, its two xs:unique constraints (one View per
    day and supplier, one entry per listing in a View) are left out:
    build_tree refuses counts with a repeated key and groups them itself,
    which is what makes them hold, and libxml2 spends four fifths of the
    validation on them (0.6 of 0.77 s for 141,000 entries). A document
    given to ``logtrack validate`` is checked against all of the XSD.
    """
    _check(_without_unique() if xsd is None else load_schema(xsd), root, "generated document", xsd)


@cache
def _without_unique() -> etree.XMLSchema:
    tree = etree.parse(str(shipped_xsd()), _safe_parser())
    for node in list(tree.iter("{http://www.w3.org/2001/XMLSchema}unique")):
        parent = node.getparent()
        assert parent is not None
        parent.remove(node)
    return etree.XMLSchema(tree)


def validate_against(schema: etree.XMLSchema, tree: etree._Element, name: str) -> None:
    """Check a parsed document against a loaded schema; XmlInvalidError names the first error."""
    _check(schema, tree, name, None)


def _check(schema: etree.XMLSchema, tree: etree._Element, name: str, xsd: Path | None) -> None:
    docinfo = tree.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlInvalidError(f"{name}:1: a DOCTYPE is not allowed in a ViewTracking document")
    try:
        valid = schema.validate(tree)
    except etree.XMLSchemaValidateError as exc:
        raise XmlInvalidError(f"{name}: cannot be validated: {exc}") from None
    if not valid:
        err = schema.error_log[0]
        where = xsd or "the shipped ViewTracking.xsd"
        raise XmlInvalidError(f"{name}:{err.line}: {err.message} (checked against {where})")

