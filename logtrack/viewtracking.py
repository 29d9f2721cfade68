"""ViewTracking XML: build it with lxml from the counts, and validate it.

Text goes into the tree as element text, so lxml escapes supplier names and
listing ids; nothing here formats XML by hand. Parsing (for validation) never
resolves entities or touches the network, since documents may come from
anywhere.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import polars as pl
from lxml import etree

from .config import Config
from .errors import InputError, XmlInvalidError

XSI = "http://www.w3.org/2001/XMLSchema-instance"


def shipped_xsd() -> Path:
    """Path of the XSD that ships inside the package."""
    return Path(str(resources.files("logtrack") / "schema" / "ViewTracking.xsd"))


def build(counts: pl.DataFrame, config: Config) -> bytes:
    """Counts sorted by (day, supplier, listing) -> a ViewTracking document."""
    ns = config.namespace
    q = (lambda tag: f"{{{ns}}}{tag}") if ns else (lambda tag: tag)
    nsmap: dict[str | None, str] = {"xsi": XSI}
    if ns:
        nsmap[None] = ns
    root = etree.Element(q("Views"), nsmap=nsmap)  # type: ignore[arg-type]  # None = default ns
    if ns:
        root.set(f"{{{XSI}}}schemaLocation", f"{ns} {config.schema_location}")
    else:
        root.set(f"{{{XSI}}}noNamespaceSchemaLocation", config.schema_location)

    ordered = counts.sort(["day", "supplier", "listing"])
    for (day, supplier), group in ordered.group_by(["day", "supplier"], maintain_order=True):
        view = etree.SubElement(root, q("View"))
        etree.SubElement(view, q("ViewDate")).text = day.isoformat()
        etree.SubElement(view, q("ViewSupplierName")).text = str(supplier) or None
        listings = etree.SubElement(view, q("Listings"))
        for listing_id, views in group.select("listing", "views").iter_rows():
            item = etree.SubElement(listings, q("Listing"))
            etree.SubElement(item, q("ListingId")).text = listing_id
            etree.SubElement(item, q("ViewCount")).text = str(views)
    body = etree.tostring(root, xml_declaration=False, encoding="UTF-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + bytes(body)


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
    if not schema.validate(tree):
        err = schema.error_log[0]  # type: ignore[index]
        where = xsd or "the shipped ViewTracking.xsd"
        raise XmlInvalidError(f"{name}:{err.line}: {err.message} (checked against {where})")
