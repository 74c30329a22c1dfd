"""Feeds, pages and feed commands for the tests of ingest, served by tests.httpserver."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from newswire_contracts import IngestFeed, feed_id

from tests.httpserver import Handler, TestServer

FIXTURES = Path(__file__).parents[1] / "services" / "ingest" / "tests" / "fixtures"
NINE_NEWS = gzip.decompress((FIXTURES / "NineNews_2024_05_02.html.gz").read_bytes())
"""A real news page (HTML)."""
NINE_NEWS_FIRST = json.loads((FIXTURES / "NineNews.expected.json").read_text())["V1"]["body"][
    "sections"
][0]["paragraphs"][0]
"""The first paragraph of its article text."""
LONG_TEXT = " ".join(
    f"Paragraph {n}: the ministers met in Brussels to discuss the sanctions package, "
    "and several delegations asked for more time before the vote."
    for n in range(12)
)
"""Long enough to be an entry's full text, with no page to fetch."""


def rss(items: list[dict[str, str]], *, title: str = "Test feed") -> bytes:
    """A small RSS 2.0 document; each item has a title and link, maybe a summary, content
    (full text) or date."""
    body = "".join(
        "<item>"
        f"<title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>"
        f"<guid>{escape(item['link'])}</guid>"
        f"<pubDate>{item.get('date', format_datetime(datetime(2026, 11, 1, 12, tzinfo=UTC)))}</pubDate>"
        + (f"<description>{escape(item['summary'])}</description>" if "summary" in item else "")
        + (
            f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>"
            if "content" in item
            else ""
        )
        + "</item>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{escape(title)}</title><link>http://example.org/</link>{body}</channel></rss>"
    ).encode()


def atom(items: list[dict[str, str]], *, title: str = "Test feed") -> bytes:
    """The Atom twin of ``rss``: the same items as entries."""
    updated = datetime(2026, 11, 1, 12, tzinfo=UTC).isoformat()
    body = "".join(
        "<entry>"
        f"<title>{escape(item['title'])}</title>"
        f'<link rel="alternate" href="{escape(item["link"])}"/><id>{escape(item["link"])}</id>'
        f"<updated>{updated}</updated>"
        + (f"<summary>{escape(item['summary'])}</summary>" if "summary" in item else "")
        + (f'<content type="html">{escape(item["content"])}</content>' if "content" in item else "")
        + "</entry>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:test</id><updated>{updated}</updated>{body}</feed>"
    ).encode()


def serve(
    web: TestServer,
    path: str,
    body: bytes,
    content_type: str,
    *,
    etag: str | None = None,
    status: int = 200,
) -> None:
    """Serve ``body`` at ``path``; with an ETag, answer 304 to a matching If-None-Match."""

    def handler(request: Handler) -> None:
        if etag and request.headers.get("If-None-Match") == etag:
            request.reply(304, b"", {"ETag": etag})
            return
        request.reply(
            status, body, {"Content-Type": content_type, **({"ETag": etag} if etag else {})}
        )

    web.route(path)(handler)


def subscribe_command(
    url: str, *, at: datetime, title: str | None = None, interval: int | None = None
) -> IngestFeed:
    """The command the gateway publishes for ``POST /v1/feeds``."""
    return IngestFeed(
        kind="feed",
        action="subscribe",
        feed_id=feed_id(url),
        url=url,
        title=title,
        poll_interval_seconds=interval,
        requested_at=at,
    )
