"""Feeds turned into normalised entries: RSS 0.9x/1.0/2.0 and Atom (feedparser), JSON Feed 1.0/1.1.

We fetch feeds with our own HTTP client and hand the bytes here (feedparser 7 drops its HTTP
handling). Everything in this module is CPU-bound and synchronous (a typical feed takes a few
to a few tens of milliseconds): call it off the event loop.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import io
import json
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import parse_qsl, urljoin, urlsplit

import charset_normalizer
import feedparser
import lxml.html
from lxml import etree

from .media_types import HTML_TYPES, split_content_type

__all__ = [
    "MAX_AUTHORS",
    "MAX_AUTHOR_CHARS",
    "MAX_TITLE_CHARS",
    "FeedEntry",
    "FeedParseError",
    "ParsedFeed",
    "entry_hash",
    "entry_text",
    "html_to_text",
    "parse_feed",
]

MAX_TITLE_CHARS = 1_000
MAX_AUTHORS = 50
MAX_AUTHOR_CHARS = 200


class FeedParseError(ValueError):
    """The document is not a usable feed; ``reason`` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FeedEntry:
    link: str
    """Absolute http(s) URL of the article (FeedBurner's original link when the feed gives one)."""
    guid: str | None
    """id/guid as feedparser gives it: a relative RSS permalink guid comes back resolved."""
    title: str | None
    """Plain text: tags stripped, entities decoded, whitespace collapsed, at most 1000 characters."""
    published_at: datetime | None
    """Aware UTC: published, else updated, else None."""
    updated_at: datetime | None
    authors: tuple[str, ...]
    content_html: str | None
    """The fullest body (content:encoded, Atom content, JSON content_html/content_text)."""
    summary_html: str | None
    """description/summary; None when it is only a copy of the content."""
    image_url: str | None
    language: str | None
    """Primary language subtag ("en"), the entry's or else the feed's."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    kind: Literal["rss", "atom", "json"]
    version: str
    """feedparser's version ("rss20", "rss10", "rss", "atom10", ...) or "json1.0"/"json1.1"."""
    title: str | None
    site_url: str | None
    language: str | None
    ttl_seconds: int | None
    entries: tuple[FeedEntry, ...]
    warnings: tuple[str, ...]
    skipped: int
    """Entries dropped because they had neither a usable link nor a guid that is a URL."""


def parse_feed(content: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a fetched feed document.

    ``url`` is the URL the feed was fetched from (relative links are resolved against it);
    ``content_type`` the Content-Type response header, if any. Raises FeedParseError when the
    document is not a usable feed; an empty but valid feed is not an error.
    """
    body = _without_leading_space(content)
    if not body.removeprefix(_UTF8_BOM).strip():
        raise FeedParseError("not a feed: empty body")
    start = body.removeprefix(_UTF8_BOM)
    media_type, charset = split_content_type(content_type)
    if charset and not _CHARSET.fullmatch(charset):
        charset = None  # never pass header junk on to feedparser
    if start[:1] == b"{" or (media_type in _JSON_TYPES and start[:1] != b"<"):
        return _parse_json_feed(start, url=url)
    if _looks_binary(body):
        raise FeedParseError("not a feed: binary content")
    if _HTML_START.match(start[:4096]):
        raise FeedParseError("not a feed: looks like an HTML page")
    return _parse_xml_feed(body, url=url, charset=charset)


def entry_text(entry: FeedEntry) -> str:
    """Plain text of the entry's content (or summary), paragraphs separated by a blank line."""
    return html_to_text(entry.content_html or entry.summary_html or "")


def entry_hash(entry: FeedEntry) -> str:
    """A digest of what the entry says: the same entry seen again unchanged has the same one."""
    parts = [
        entry.link,
        entry.title,
        entry.content_html,
        entry.summary_html,
        str(entry.updated_at or entry.published_at),
    ]
    return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment or document: no tags, scripts or styles; entities decoded;
    block elements become paragraphs separated by "\\n\\n", <br> a single newline.

    HTML escaped twice by the publisher (reddit's self-posts: ``&amp;lt;p&amp;gt;``) shows up as
    tags in the text; when it does (two or more closing tags), the text is read as HTML again.
    """
    text = _html_to_text(markup)
    if len(_ESCAPED_MARKUP.findall(text)) >= 2:
        return _html_to_text(text)
    return text


_ESCAPED_MARKUP = re.compile(r"</(?:p|div|a|li|ul|ol|em|strong|b|i|span|blockquote|h[1-6])>")


def _html_to_text(markup: str) -> str:
    if not markup or not markup.strip():
        return ""
    try:
        root = lxml.html.document_fromstring(markup.encode("utf-8"), parser=_HTML_PARSER)
    except (etree.ParserError, ValueError):
        return ""
    for element in list(root.iter(*_SKIPPED_TAGS)):
        element.drop_tree()  # keeps the text that follows it
    parts: list[str] = []
    in_pre = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _BLOCK_TAGS:
                parts.append("\n\n")
                in_pre += tag == "pre"
            elif tag == "br":
                parts.append("\n")
            elif tag in _CELL_TAGS:
                parts.append(" ")
            if element.text:
                parts.append(element.text if in_pre else _WHITESPACE.sub(" ", element.text))
        else:
            if tag in _BLOCK_TAGS:
                parts.append("\n\n")
                in_pre -= tag == "pre"
            if element.tail:
                parts.append(element.tail if in_pre else _WHITESPACE.sub(" ", element.tail))
    lines = (line.strip(" \t") for line in "".join(parts).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# --- XML feeds (feedparser) ------------------------------------------------------------------

_UTF8_BOM = b"\xef\xbb\xbf"
_HTML_START = re.compile(
    rb"(?:\s|<!--.*?-->|<\?xml[^>]*>)*<(?:!doctype\s+html|html[\s>/])", re.IGNORECASE | re.DOTALL
)
_HTML_ANYWHERE = re.compile(rb"<(?:!doctype\s+html|html|head|body)[\s>/]", re.IGNORECASE)
_XML_DECLARED_ENCODING = re.compile(rb"^<\?xml[^>]*encoding\s*=", re.IGNORECASE)
_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_JSON_TYPES = frozenset({"application/feed+json", "application/json"})
_CHARSET = re.compile(r"[A-Za-z0-9._:-]{1,40}")


def _parse_xml_feed(body: bytes, *, url: str, charset: str | None) -> ParsedFeed:
    # Our own HTTP client fetched the document: tell feedparser where it came from (for relative
    # links) and what charset the server claimed. The charset only when the document does not
    # declare its own (a BOM or <?xml encoding=...?>): servers' defaults are wrong more often than
    # documents. The media type is always given as XML: feedparser would otherwise warn about
    # text/html or a missing header, and read text/xml without charset as US-ASCII (RFC 3023).
    declares_encoding = body.startswith(
        (_UTF8_BOM, b"\xff\xfe", b"\xfe\xff")
    ) or _XML_DECLARED_ENCODING.match(body)
    media_type = "application/xml"
    if charset and not declares_encoding:
        media_type += f"; charset={charset}"
    # A file-like object, never bytes: feedparser would try to open() bytes as a local path.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-type": media_type, "content-location": url},
        resolve_relative_uris=True,
        sanitize_html=True,
    )
    version = str(dict.get(parsed, "version") or "")
    raw_entries: list[Any] = list(dict.get(parsed, "entries") or [])
    problem = dict.get(parsed, "bozo_exception") if dict.get(parsed, "bozo") else None
    xml_error = problem is not None and not isinstance(
        problem, feedparser.ThingsNobodyCaresAboutButMe
    )
    if not raw_entries and not version:
        raise FeedParseError(_why_not_a_feed(body, problem if xml_error else None))

    warnings: list[str] = []
    if problem is not None:
        warnings.append(_describe_bozo(problem))
    channel = dict.get(parsed, "feed") or {}
    kind: Literal["rss", "atom"] = "atom" if _is_atom(version, body) else "rss"
    feed_language = _language(dict.get(channel, "language"))
    # RFC 4287 4.2.1: an Atom entry without author has the feed's (RSS has no such rule).
    feed_authors = _authors(dict.get(channel, "authors")) if kind == "atom" else ()

    built = [
        _xml_entry(raw, url=url, kind=kind, feed_language=feed_language, feed_authors=feed_authors)
        for raw in raw_entries
    ]
    entries = tuple(entry for entry in built if entry is not None)
    if xml_error and not entries:
        # Broken and empty: "no entries" may only mean the parser gave up before the first one.
        raise FeedParseError(f"malformed XML and no entries could be read: {problem}")
    return ParsedFeed(
        kind=kind,
        version=version,
        title=_title(dict.get(channel, "title"), _detail_type(channel, "title_detail")),
        site_url=_absolute_http_url(dict.get(channel, "link"), url),
        language=feed_language,
        ttl_seconds=_ttl_seconds(channel),
        entries=entries,
        warnings=tuple(warnings),
        skipped=len(built) - len(entries),
    )


def _xml_entry(
    raw: Any, *, url: str, kind: str, feed_language: str | None, feed_authors: tuple[str, ...]
) -> FeedEntry | None:
    # dict.get throughout: FeedParserDict.get maps missing keys to others (updated -> published,
    # with a DeprecationWarning), which would invent update dates.
    link = _absolute_http_url(dict.get(raw, "feedburner_origlink"), url) or _unwrap_redirect(
        _absolute_http_url(dict.get(raw, "link"), url)
    )
    guid = _clean_guid(dict.get(raw, "id"))
    if link is None and guid is not None and dict.get(raw, "guidislink"):
        # feedparser already makes a permalink guid the link; this covers a link it dropped.
        link = _absolute_http_url(guid, None)
    if link is None:
        return None
    content_html = _xml_content(raw, kind=kind)
    summary = dict.get(raw, "summary")
    summary_html = _as_html(summary, _detail_type(raw, "summary_detail"))
    if summary_html is not None and any(
        str(dict.get(item, "value") or "").strip() == summary_html
        for item in dict.get(raw, "content") or []
    ):
        summary_html = None  # feedparser copies Atom content into summary when there is none
    published = _xml_date(raw, "published")
    updated = _xml_date(raw, "updated")
    return FeedEntry(
        link=link,
        guid=guid,
        title=_title(dict.get(raw, "title"), _detail_type(raw, "title_detail")),
        published_at=published or updated,
        updated_at=updated,
        authors=_authors(dict.get(raw, "authors"), dict.get(raw, "author")) or feed_authors,
        content_html=content_html,
        summary_html=summary_html,
        image_url=_xml_image(raw, url),
        language=_entry_language(raw) or feed_language,
    )


def _xml_content(raw: Any, *, kind: str) -> str | None:
    best: str | None = None
    for item in dict.get(raw, "content") or []:
        content_type = str(dict.get(item, "type") or "text/html").lower()
        if content_type not in HTML_TYPES and kind != "atom":
            # In RSS feedparser files media:description (a caption) as text/plain content;
            # content:encoded is always HTML.
            continue
        value = _as_html(dict.get(item, "value"), content_type)
        if value is not None and (best is None or len(value) > len(best)):
            best = value
    return best


def _as_html(value: Any, content_type: str | None) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    if content_type is None or content_type.lower() in HTML_TYPES:
        return value.strip()
    return _text_to_html(value)


def _text_to_html(text: str) -> str | None:
    paragraphs = [p.strip() for p in _BLANK_LINES.split(text.replace("\r\n", "\n")) if p.strip()]
    if not paragraphs:
        return None
    return "".join(
        "<p>" + "<br>".join(html.escape(line.strip()) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def _detail_type(container: Any, key: str) -> str | None:
    detail = dict.get(container, key)
    return str(dict.get(detail, "type") or "") or None if isinstance(detail, dict) else None


def _entry_language(raw: Any) -> str | None:
    for item in dict.get(raw, "content") or []:
        if language := _language(dict.get(item, "language")):
            return language
    for key in ("summary_detail", "title_detail"):
        detail = dict.get(raw, key)
        if isinstance(detail, dict) and (language := _language(dict.get(detail, "language"))):
            return language
    return None


def _xml_image(raw: Any, base: str) -> str | None:
    best: tuple[int, str] | None = None
    for media in dict.get(raw, "media_content") or []:
        image = _absolute_http_url(dict.get(media, "url"), base)
        if image is None or not _is_image(
            dict.get(media, "medium"), dict.get(media, "type"), image
        ):
            continue
        width = _int(dict.get(media, "width")) or 0
        if best is None or width > best[0]:
            best = (width, image)
    if best is not None:
        return best[1]
    for thumbnail in dict.get(raw, "media_thumbnail") or []:
        if image := _absolute_http_url(dict.get(thumbnail, "url"), base):
            return image
    for link in dict.get(raw, "links") or []:
        if dict.get(link, "rel") != "enclosure":
            continue
        image = _absolute_http_url(dict.get(link, "href"), base)
        if image is not None and _is_image(None, dict.get(link, "type"), image):
            return image
    image_element = dict.get(raw, "image")  # itunes:image
    if isinstance(image_element, dict):
        return _absolute_http_url(dict.get(image_element, "href"), base)
    return None


_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")


def _is_image(medium: Any, mime_type: Any, url: str) -> bool:
    if medium:
        return str(medium).lower() == "image"
    if mime_type:
        return str(mime_type).lower().startswith("image/")
    return urlsplit(url).path.lower().endswith(_IMAGE_EXTENSIONS)


_SY_PERIODS = {
    "hourly": 3600,
    "daily": 86_400,
    "weekly": 7 * 86_400,
    "monthly": 30 * 86_400,
    "yearly": 365 * 86_400,
}


def _ttl_seconds(channel: Any) -> int | None:
    ttl = _int(dict.get(channel, "ttl"))
    if ttl is not None and ttl > 0:
        return ttl * 60
    period = str(dict.get(channel, "sy_updateperiod") or "").strip().lower()
    if period not in _SY_PERIODS:
        return None
    frequency = _int(dict.get(channel, "sy_updatefrequency"))
    return _SY_PERIODS[period] // (frequency if frequency and frequency > 0 else 1)


def _is_atom(version: str, body: bytes) -> bool:
    if version:
        return version.startswith("atom")
    root = _ROOT_TAG.search(_skip_prolog(body[:4096]))
    return root is not None and root.group(1).split(b":")[-1].lower() == b"feed"


def _describe_bozo(problem: Any) -> str:
    message = str(problem) or type(problem).__name__
    if isinstance(
        problem, feedparser.CharacterEncodingOverride | feedparser.CharacterEncodingUnknown
    ):
        return f"encoding: {message}"
    if isinstance(problem, feedparser.NonXMLContentType):
        return f"content type: {message}"
    return f"recovered from malformed XML: {message}"


def _why_not_a_feed(body: bytes, xml_error: Any) -> str:
    head = body[:8192]
    root = _ROOT_TAG.search(_skip_prolog(head))
    root_name = root.group(1).decode("ascii", "replace") if root else None
    if (root_name or "").lower() in _HTML_ROOTS or (
        root_name is None and _HTML_ANYWHERE.search(head)
    ):
        return "not a feed: looks like an HTML page"
    if _looks_undecodable(head):
        return "not a feed: binary content"
    if xml_error is not None:
        if root is None and not head.lstrip().startswith(b"<"):
            return "not a feed: plain text, not XML or JSON"
        return f"malformed XML and no entries could be read: {xml_error}"
    if root_name:
        return f"not a feed: XML document with root element <{root_name}>, not RSS, RDF or Atom"
    return "not a feed: no RSS, RDF or Atom element found"


# Where a page fragment starts when it is served instead of a feed.
_HTML_ROOTS = frozenset(
    {"html", "head", "body", "div", "p", "span", "a", "table", "main", "section", "article"}
    | {"header", "nav", "script", "style", "meta", "link", "title", "h1", "h2", "ul", "form"}
    | {"br", "b", "img", "center", "font"}
)


def _skip_prolog(head: bytes) -> bytes:
    return re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", b"", head, flags=re.DOTALL)


def _without_leading_space(content: bytes) -> bytes:
    """Drop whitespace before the first ``<`` or ``{``: an XML declaration that does not open the
    document is a fatal error for strict parsers (TechCrunch, TypePad, Macworld fixtures)."""
    bom = _UTF8_BOM if content.startswith(_UTF8_BOM) else b""
    rest = content[len(bom) :].lstrip(b" \t\r\n\f\v")
    if rest[:1] in (b"<", b"{"):
        return bom + rest
    return content


def _looks_binary(body: bytes) -> bool:
    sample = body[:4096]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")) or sample[:4] in (
        b"<\x00?\x00",
        b"\x00<\x00?",
        b"<\x00\x00\x00",
        b"\x00\x00\x00<",
    ):
        return False  # UTF-16/32 XML: feedparser decodes it
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in b"\t\n\r\f") + sample.count(
        0x7F
    )
    return controls > len(sample) // 50


def _looks_undecodable(sample: bytes) -> bool:
    try:  # incremental: a sample may end inside a multi-byte character
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return charset_normalizer.from_bytes(sample).best() is None
    return False


# --- JSON Feed -----------------------------------------------------------------------------
# Read leniently: a field of the wrong type is ignored rather than failing its item, and only
# an item that is not an object is skipped.

_JSON_FEED_VERSION = "https://jsonfeed.org/version/"


def _text(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None  # lists, objects, booleans


def _as_datetime(value: Any) -> datetime | None:
    """RFC 3339 (``2017-06-27T00:54:17Z``, offsets, fractions); anything else -> None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _json_authors(item: dict[str, Any]) -> tuple[str, ...]:
    """JSON Feed 1.1 ``authors``, else 1.0 ``author``: objects, or names alone."""
    for key in ("authors", "author"):
        value = item.get(key)
        listed = value if isinstance(value, list) else [value]
        names = [
            v if isinstance(v, str) else _text(v, "name")
            for v in listed
            if isinstance(v, dict | str)
        ]
        if names:
            return _authors([{"name": name} for name in names])
    return ()


def _parse_json_feed(body: bytes, *, url: str) -> ParsedFeed:
    warnings: list[str] = []
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        if b"\x00" in body[:4096] and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise FeedParseError("not a feed: binary content") from None
        text = body.decode("utf-8", errors="replace")
        warnings.append("encoding: JSON Feed is not valid UTF-8; undecodable bytes replaced")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise FeedParseError(f"malformed JSON and no entries could be read: {error}") from None
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not version.startswith(_JSON_FEED_VERSION):
        raise FeedParseError("not a feed: JSON without a JSON Feed version")

    number = version.removeprefix(_JSON_FEED_VERSION).strip("/")
    feed_language = _language(_text(document, "language"))
    feed_authors = _json_authors(document)
    items = document.get("items")
    items = items if isinstance(items, list) else []
    built = [
        _json_entry(item, url=url, feed_language=feed_language, feed_authors=feed_authors)
        for item in items
        if isinstance(item, dict)
    ]
    entries = tuple(entry for entry in built if entry is not None)
    if invalid := len(items) - len(built):
        warnings.append(f"{invalid} JSON Feed item(s) were not objects and were skipped")
    return ParsedFeed(
        kind="json",
        version="json1.0" if number in ("1", "1.0") else f"json{number}",
        title=_plain_title(_text(document, "title")),
        site_url=_absolute_http_url(_text(document, "home_page_url"), url),
        language=feed_language,
        ttl_seconds=None,
        entries=entries,
        warnings=tuple(warnings),
        skipped=len(items) - len(entries),
    )


def _json_entry(
    item: dict[str, Any], *, url: str, feed_language: str | None, feed_authors: tuple[str, ...]
) -> FeedEntry | None:
    link = (
        _absolute_http_url(_text(item, "url"), url)
        or _absolute_http_url(_text(item, "external_url"), url)
        or _absolute_http_url(_text(item, "id"), None)
    )
    if link is None:
        return None
    image = _absolute_http_url(_text(item, "image"), url) or _absolute_http_url(
        _text(item, "banner_image"), url
    )
    attachments = item.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        mime_type = _text(attachment, "mime_type") if isinstance(attachment, dict) else None
        if image is None and (mime_type or "").lower().startswith("image/"):
            image = _absolute_http_url(_text(attachment, "url"), url)
    content = (_text(item, "content_html") or "").strip() or None
    content_text, summary = _text(item, "content_text"), _text(item, "summary")
    modified = _as_datetime(item.get("date_modified"))
    return FeedEntry(
        link=link,
        guid=_clean_guid(_text(item, "id")),
        title=_plain_title(_text(item, "title")),
        published_at=_as_datetime(item.get("date_published")) or modified,
        updated_at=modified,
        authors=_json_authors(item) or feed_authors,
        content_html=content or (_text_to_html(content_text) if content_text else None),
        summary_html=_text_to_html(summary) if summary else None,
        image_url=image,
        language=_language(_text(item, "language")) or feed_language,
    )


# --- shared cleaning --------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,31});")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_EMAIL = re.compile(r"^\S+@\S+\.\S+$")


def _title(value: Any, content_type: str | None) -> str | None:
    if not isinstance(value, str):
        return None
    if content_type and content_type.lower() in HTML_TYPES and "<" in value:
        value = _fragment_text(value)
    return _plain_title(value)


def _plain_title(value: str | None) -> str | None:
    if not value:
        return None
    if _ENTITY.search(value):  # double-escaped in the feed ("&amp;amp;")
        value = html.unescape(value)
    cleaned = _WHITESPACE.sub(" ", value).strip()
    return cleaned[:MAX_TITLE_CHARS] or None


def _fragment_text(markup: str) -> str:
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div", parser=_HTML_PARSER)
    except (etree.ParserError, ValueError):
        return markup
    for element in root.iter("script", "style"):
        element.drop_tree()
    return root.text_content()


def _authors(entries: Any, fallback: Any = None) -> tuple[str, ...]:
    names: list[str] = []
    for author in entries or []:
        name = dict.get(author, "name") if isinstance(author, dict) else None
        if isinstance(name, str):
            names.append(name)
    if not names and isinstance(fallback, str):
        names.append(fallback)
    result: list[str] = []
    for name in names:
        cleaned = _WHITESPACE.sub(" ", html.unescape(name)).strip()[:MAX_AUTHOR_CHARS].strip()
        # An e-mail address alone (RSS <author>) names no one.
        if cleaned and not _EMAIL.match(cleaned) and cleaned not in result:
            result.append(cleaned)
        if len(result) == MAX_AUTHORS:
            break
    return tuple(result)


def _clean_guid(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _absolute_http_url(value: Any, base: str | None) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    candidate = value.strip()
    if base:
        try:
            candidate = urljoin(base, candidate)
        except ValueError:
            return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return candidate


_REDIRECTORS = frozenset({"www.google.com", "google.com"})


def _unwrap_redirect(link: str | None) -> str | None:
    """The article behind a Google redirect (Google Alerts: ``google.com/url?...&url=<article>``)."""
    if link is None:
        return None
    parts = urlsplit(link)
    if (parts.hostname or "") in _REDIRECTORS and parts.path == "/url":
        for key, value in parse_qsl(parts.query):
            if key in ("url", "q") and (target := _absolute_http_url(value, None)):
                return target
    return link


def _language(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if _LANGUAGE.fullmatch(primary) else None


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# --- dates ------------------------------------------------------------------------------------

# "2020/1/10 14:33:00" (kc0011.rss): feedparser reads it as 2020-11-01 00:00.
_NUMERIC_DATE = re.compile(
    r"\s*(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*"
)
# RFC 822 with month names in another language ("Seg, 24 Set 2018 19:42:40 -0300", UOL).
_LOCALISED_RFC822 = re.compile(
    r"\s*(?:[^\W\d_]+\.?,?\s+)?(\d{1,2})\.?\s+([^\W\d_]+)\.?,?\s+(\d{4}),?\s+"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{2}:?\d{2}|[A-Za-z]{1,5})?\s*"
)
_MONTHS = {
    "jan": 1, "ene": 1, "gen": 1,
    "feb": 2, "fev": 2,
    "mar": 3, "mrz": 3, "mrt": 3,
    "apr": 4, "abr": 4, "avr": 4,
    "may": 5, "mai": 5, "mag": 5, "mei": 5,
    "jun": 6, "giu": 6, "juin": 6,
    "jul": 7, "lug": 7, "juil": 7,
    "aug": 8, "ago": 8, "aou": 8,
    "sep": 9, "set": 9,
    "oct": 10, "okt": 10, "out": 10, "ott": 10,
    "nov": 11,
    "dec": 12, "dez": 12, "dic": 12,
}  # fmt: skip
_ZONES = {
    "ut": 0, "utc": 0, "gmt": 0, "z": 0,
    "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
}  # fmt: skip


def _xml_date(raw: Any, key: str) -> datetime | None:
    text = dict.get(raw, key)
    if isinstance(text, str) and (own := _NUMERIC_DATE.fullmatch(text)):
        return _datetime_or_none(*own.groups(), offset_minutes=0)
    parsed = dict.get(raw, f"{key}_parsed")
    if isinstance(parsed, time.struct_time):
        return _datetime_or_none(*parsed[:6], offset_minutes=0)
    if isinstance(text, str):
        return _localised_rfc822(text)
    return None


def _localised_rfc822(text: str) -> datetime | None:
    match = _LOCALISED_RFC822.fullmatch(text)
    if match is None:
        return None
    day, month_name, year, hour, minute, second, zone = match.groups()
    folded = "".join(c for c in unicodedata.normalize("NFKD", month_name.lower()) if c.isascii())
    month = _MONTHS.get(folded[:4]) or (_MONTHS.get(folded[:3]) if folded[:3] != "jui" else None)
    if month is None:
        return None
    if zone is None:
        offset = 0  # like feedparser: a date without zone is read as UTC
    elif zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 60 + int(digits[2:])
        offset = -offset if zone[0] == "-" else offset
    elif zone.lower() in _ZONES:
        offset = _ZONES[zone.lower()] * 60
    else:
        return None  # an unknown zone: no guessing
    return _datetime_or_none(year, month, day, hour, minute, second, offset_minutes=offset)


def _datetime_or_none(
    year: Any, month: Any, day: Any, hour: Any, minute: Any, second: Any, *, offset_minutes: int
) -> datetime | None:
    try:
        y, mo, d, h, mi, sec = (
            int(f) if f is not None else 0 for f in (year, month, day, hour, minute, second)
        )
        zone = timezone(timedelta(minutes=offset_minutes))
        return datetime(y, mo, d, h, mi, sec, tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


# --- HTML to text -----------------------------------------------------------------------------

_HTML_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
_SKIPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "iframe", "object", "svg"}
)
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "nav", "ol", "p",
    "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
})  # fmt: skip
_CELL_TAGS = frozenset({"td", "th"})
