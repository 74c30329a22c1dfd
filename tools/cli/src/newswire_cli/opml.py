"""Reading and writing OPML subscription lists (OPML 1.0 and 2.0), as pure functions.

OPML files come from other feed readers and are untrusted: they are parsed with
defusedxml, which refuses entity declarations (billion laughs) and external references.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # building only; parsing goes through defusedxml
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

import defusedxml
import defusedxml.ElementTree as SafeET
from newswire_contracts import InvalidURLError, canonicalize_url

__all__ = ["OpmlError", "OpmlFeed", "read_opml", "write_opml"]

DEFAULT_TITLE = "Newswire feeds"

# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class OpmlError(ValueError):
    """The document is not OPML, or not XML this reader is willing to parse."""


@dataclass(frozen=True)
class OpmlFeed:
    """One subscription: the feed's URL, a display title and the site's URL, if given."""

    url: str
    title: str | None = None
    html_url: str | None = None


def read_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds of an OPML document, in document order.

    Every ``<outline>`` with an ``xmlUrl`` counts, however deeply nested in category
    outlines; outlines without one are categories (or links) and are skipped. The title
    is ``title``, else ``text`` (a title that only repeats the URL is no title). A feed
    listed twice (the same URL up to canonical form) is returned once, at its first
    place, with the title and site URL of the first listing that has them.
    Attribute names are matched case-insensitively (``xmlurl`` is common in the wild).
    """
    try:
        root = SafeET.fromstring(data)
    except defusedxml.DefusedXmlException as exc:
        raise OpmlError(f"refused: {_unsafe(exc)}") from exc
    except ET.ParseError as exc:
        raise OpmlError(f"not well-formed XML: {exc}") from exc
    if _local_name(root.tag) != "opml":
        raise OpmlError(
            f"not an OPML document: the root element is <{_local_name(root.tag)}>, not <opml>"
        )
    body = next((child for child in root if _local_name(child.tag) == "body"), None)
    if body is None:
        raise OpmlError("not an OPML document: <opml> has no <body>")

    feeds: dict[str, OpmlFeed] = {}
    for outline in body.iter():
        if _local_name(outline.tag) != "outline":
            continue
        attributes = {name.lower(): value.strip() for name, value in outline.attrib.items()}
        url = attributes.get("xmlurl")
        if not url:
            continue
        title = attributes.get("title") or attributes.get("text") or None
        feed = OpmlFeed(
            url=url,
            title=title if title != url else None,
            html_url=attributes.get("htmlurl") or None,
        )
        first = feeds.setdefault(key := _dedup_key(url), feed)
        feeds[key] = OpmlFeed(first.url, first.title or feed.title, first.html_url or feed.html_url)
    return list(feeds.values())


def write_opml(
    feeds: Iterable[OpmlFeed], *, title: str = DEFAULT_TITLE, created: datetime | None = None
) -> bytes:
    """An OPML 2.0 document (UTF-8) listing ``feeds`` as ``type="rss"`` outlines.

    ``text`` (required by OPML 2.0) is the title, or the URL for untitled feeds, which
    have no ``title`` attribute; ``htmlUrl`` is written when known.
    """
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _xml_text(title)
    ET.SubElement(head, "dateCreated").text = format_datetime(
        (created or datetime.now(UTC)).astimezone(UTC), usegmt=True
    )
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attributes = {"type": "rss", "text": _xml_text(feed.title or feed.url)}
        if feed.title:
            attributes["title"] = _xml_text(feed.title)
        attributes["xmlUrl"] = _xml_text(feed.url)
        if feed.html_url:
            attributes["htmlUrl"] = _xml_text(feed.html_url)
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _local_name(tag: object) -> str:
    """The tag without a namespace; comments and processing instructions have none."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _unsafe(exc: defusedxml.DefusedXmlException) -> str:
    if isinstance(exc, defusedxml.EntitiesForbidden):
        return (
            f"the document declares the entity {exc.name!r}; entity declarations are not "
            "accepted (they make entity-expansion attacks such as billion laughs possible)"
        )
    if isinstance(exc, defusedxml.ExternalReferenceForbidden):
        return f"the document refers to an external resource ({exc.sysid or exc.pubid})"
    return f"the document uses XML features that are unsafe to parse ({type(exc).__name__})"


def _dedup_key(url: str) -> str:
    try:
        return canonicalize_url(url)
    except InvalidURLError:
        return url


def _xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)
