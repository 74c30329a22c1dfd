"""The simulated web's documents: feeds in five formats and article pages, in their charsets."""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import format_datetime
from html import escape as html_escape
from xml.sax.saxutils import escape

from .model import Feed, Story, Web

__all__ = ["feed_document", "page_document"]


def feed_document(web: Web, feed: Feed, now: datetime) -> tuple[bytes, str]:
    """(body, content type) of the feed as it reads at ``now``."""
    outlet = web.outlets[feed.outlet]
    entries = web.entries(feed, now)
    if feed.format == "json":
        return _json_feed(web, feed, entries, now), "application/feed+json"
    render = {"rss2": _rss2, "rss091": _rss091, "atom": _atom, "rdf": _rdf}[feed.format]
    body = render(web, feed, entries, now)
    declaration = f'<?xml version="1.0" encoding="{outlet.charset.upper()}"?>\n'
    encoded = (declaration + body).encode(outlet.charset, errors="xmlcharrefreplace")
    kind = {
        "atom": "application/atom+xml",
        "rdf": "application/rdf+xml",
        "rss091": "text/xml",
    }.get(feed.format, "application/rss+xml")
    return encoded, f"{kind}; charset={outlet.charset}"


def page_document(web: Web, story: Story, now: datetime) -> tuple[bytes, str]:
    """(body, content type) of the story's page; a paywalled one holds no article."""
    outlet = web.outlets[story.outlet]
    title = html_escape(story.title_at(now))
    canonical = html_escape(web.story_url(story))
    if story.page == "paywalled":
        article = (
            '<div class="wall"><p>Subscribe to continue reading.</p>'
            '<form><input name="email"><button>Sign in</button></form></div>'
        )
    else:
        paragraphs = "".join(
            f"<p>{html_escape(p.strip())}</p>" for p in story.text_at(now).split("\n") if p.strip()
        )
        article = (
            f'<article><h1>{title}</h1><p class="byline">By {html_escape(story.authors[0])}</p>'
            f'<time datetime="{story.published.isoformat()}">{story.published:%d %B %Y}</time>'
            f"{paragraphs}</article>"
        )
    charset = {"latin1": "iso-8859-1", "meta_charset": "windows-1252"}.get(
        story.page, outlet.charset
    )
    meta = f'<meta charset="{charset}">' if story.page == "meta_charset" else ""
    html = (
        f"<!doctype html><html><head>{meta}<title>{title} | {html_escape(outlet.name)}</title>"
        f'<link rel="canonical" href="{canonical}"></head><body>'
        f'<nav><a href="/">Home</a> <a href="/world">World</a></nav>{article}'
        "<footer>Copyright the outlet. All rights reserved.</footer></body></html>"
    )
    body = html.encode(charset, errors="xmlcharrefreplace")
    # A charset declared only in the page is what meta_charset tests.
    content_type = "text/html" if story.page == "meta_charset" else f"text/html; charset={charset}"
    return body, content_type


def _summary_or_content(feed: Feed, story: Story, now: datetime) -> tuple[str, str | None]:
    content = story.text_at(now) if feed.full_content else None
    return story.summary, content


def _rss2(web: Web, feed: Feed, entries: list[Story], now: datetime) -> str:
    items = []
    for story in entries:
        summary, content = _summary_or_content(feed, story, now)
        encoded = (
            f"<content:encoded>{escape(_paragraphs(content))}</content:encoded>" if content else ""
        )
        items.append(
            f"<item><title>{escape(story.title_at(now))}</title>"
            f"<link>{escape(web.story_url(story))}</link>"
            f'<guid isPermaLink="true">{escape(web.story_url(story))}</guid>'
            f"<pubDate>{format_datetime(story.published)}</pubDate>"
            f"<dc:creator>{escape(story.authors[0])}</dc:creator>"
            f"<description>{escape(summary)}</description>{encoded}</item>"
        )
    return (
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(_title(web, feed))}</title><link>{web.origin(feed.outlet)}/</link>"
        f"<description>News</description><ttl>5</ttl>{''.join(items)}</channel></rss>"
    )


def _rss091(web: Web, feed: Feed, entries: list[Story], now: datetime) -> str:
    items = "".join(
        f"<item><title>{escape(story.title_at(now))}</title>"
        f"<link>{escape(web.story_url(story))}</link>"
        f"<description>{escape(story.summary)}</description></item>"
        for story in entries
    )
    return (
        '<rss version="0.91"><channel>'
        f"<title>{escape(_title(web, feed))}</title><link>{web.origin(feed.outlet)}/</link>"
        f"<description>News</description><language>en</language>{items}</channel></rss>"
    )


def _atom(web: Web, feed: Feed, entries: list[Story], now: datetime) -> str:
    items = []
    for story in entries:
        summary, content = _summary_or_content(feed, story, now)
        updated = story.edited if story.is_edited_at(now) and story.edited else story.published
        body = f'<content type="html">{escape(_paragraphs(content))}</content>' if content else ""
        items.append(
            f"<entry><title>{escape(story.title_at(now))}</title>"
            f'<link rel="alternate" href="{escape(web.story_url(story))}"/>'
            f"<id>{escape(web.story_url(story))}</id>"
            f"<published>{story.published.isoformat()}</published>"
            f"<updated>{updated.isoformat()}</updated>"
            f"<author><name>{escape(story.authors[0])}</name></author>"
            f"<summary>{escape(summary)}</summary>{body}</entry>"
        )
    newest = max((s.published for s in entries), default=now)
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(_title(web, feed))}</title><id>{web.feed_url(feed)}</id>"
        f'<link rel="self" href="{web.feed_url(feed)}"/><updated>{newest.isoformat()}</updated>'
        f"{''.join(items)}</feed>"
    )


def _rdf(web: Web, feed: Feed, entries: list[Story], now: datetime) -> str:
    sequence = "".join(f'<rdf:li rdf:resource="{escape(web.story_url(s))}"/>' for s in entries)
    items = "".join(
        f'<item rdf:about="{escape(web.story_url(story))}">'
        f"<title>{escape(story.title_at(now))}</title><link>{escape(web.story_url(story))}</link>"
        f"<description>{escape(story.summary)}</description>"
        f"<dc:date>{story.published.isoformat()}</dc:date></item>"
        for story in entries
    )
    return (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="{web.feed_url(feed)}"><title>{escape(_title(web, feed))}</title>'
        f"<link>{web.origin(feed.outlet)}/</link><description>Newsticker</description>"
        f"<items><rdf:Seq>{sequence}</rdf:Seq></items></channel>{items}</rdf:RDF>"
    )


def _json_feed(web: Web, feed: Feed, entries: list[Story], now: datetime) -> bytes:
    items = []
    for story in entries:
        summary, content = _summary_or_content(feed, story, now)
        item: dict[str, object] = {
            "id": web.story_url(story),
            "url": web.story_url(story),
            "title": story.title_at(now),
            "summary": summary,
            "date_published": story.published.isoformat(),
            "authors": [{"name": story.authors[0]}],
        }
        if content:
            item["content_text"] = content
        else:
            item["content_html"] = f"<p>{html_escape(summary)}</p>"
        items.append(item)
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": _title(web, feed),
        "home_page_url": f"{web.origin(feed.outlet)}/",
        "feed_url": web.feed_url(feed),
        "items": items,
    }
    return json.dumps(document, ensure_ascii=False).encode()


def _title(web: Web, feed: Feed) -> str:
    name = web.outlets[feed.outlet].name
    return f"{name}: {feed.section.title()}" if feed.section else f"{name}: Front page"


def _paragraphs(text: str | None) -> str:
    return "".join(
        f"<p>{html_escape(p.strip())}</p>" for p in (text or "").split("\n") if p.strip()
    )
