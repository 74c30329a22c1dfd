"""Ingest's article rules: articles from submissions, feed entries and pages; their versions."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Literal
from urllib.parse import urljoin, urlsplit

from newswire_contracts import (
    MAX_TEXT_CHARS,
    ArticleIngested,
    IngestArticle,
    InvalidURLError,
    article_id,
    canonicalize_url,
)

from .extract import ExtractedPage, extract_page
from .feeds import FeedEntry, ParsedFeed
from .page_retries import PendingPage

__all__ = [
    "MIN_EXTRACTED_CHARS",
    "ArticleRejected",
    "TextSource",
    "article_from_entry",
    "article_from_page",
    "article_from_submission",
    "build_article",
    "choose_canonical",
    "clean_text",
    "content_hash",
    "page_has_article",
    "same_site",
    "source_from_url",
]

# Less than this from a whole page is navigation or a paywall stub, not an article.
MIN_EXTRACTED_CHARS = 200

_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# Host prefixes that name the same site's mobile or accelerated copy.
_SAME_SITE_PREFIXES = ("www.", "m.", "mobile.", "amp.")


TextSource = Literal["page", "feed", "submission"]


class ArticleRejected(Exception):
    """No article can be made of this input, however often it is tried (no text, not a page)."""


def build_article(
    *,
    url: str,
    title: str | None,
    text: str,
    source: str | None,
    now: datetime,
    published_at: datetime | None = None,
    language_hint: str | None = None,
    authors: tuple[str, ...] = (),
    image_url: str | None = None,
    aliases: tuple[str, ...] = (),
    feed_id: str | None = None,
    version: int = 1,
    text_source: TextSource | None = None,
    summary_only: bool = False,
    taken_in: datetime | None = None,
) -> ArticleIngested:
    """An ingested article from its parts; ``url`` must be canonical. Cuts oversized text.

    Only a ``summary_only`` article may have no text (an entry that is just a headline).
    ``taken_in``: when Newswire took it in before ingest did (a submission: when the gateway
    accepted it), the first ingestion of a new article; else ``now``.
    """
    text = clean_text(text)
    if not text and not summary_only:
        raise ArticleRejected("the article has no text")
    truncated = len(text) > MAX_TEXT_CHARS
    text = text[:MAX_TEXT_CHARS]
    title = " ".join((title or "").split())[:1_000]
    identifier = article_id(url)
    return ArticleIngested(
        id=identifier,
        url=url,
        source=(source or source_from_url(url)).strip()[:200] or source_from_url(url),
        title=title,
        text=text,
        text_truncated=truncated,
        published_at=published_at,
        ingested_at=now,
        first_ingested_at=taken_in,
        language_hint=_language_code(language_hint),
        authors=tuple(a.strip()[:200] for a in authors if a.strip())[:50],
        image_url=_usable_url(image_url),
        content_hash=content_hash(title, text),
        version=version,
        aliases=tuple(dict.fromkeys(a for a in aliases if a != identifier))[:20],
        feed_id=feed_id,
        text_source=text_source,
        summary_only=summary_only,
    )


def article_from_submission(
    command: IngestArticle,
    *,
    now: datetime,
    page: ExtractedPage | None = None,
    fetched_url: str | None = None,
) -> ArticleIngested:
    """The article a submission describes: its inline text, else its (inline or fetched) page.

    ``page`` is the extraction of the page fetched from the URL (``fetched_url`` is where the
    fetch ended up); inline ``html`` is extracted here. Raises ArticleRejected when there is
    no text. CPU-bound (HTML parsing): call it off the event loop.
    """
    submitted = canonicalize_url(command.url)
    if page is None and command.html and not command.text:
        page = extract_page(command.html, submitted)
    url = submitted
    if page is not None and not command.text:
        url = choose_canonical(fetched_url or submitted, page.canonical_url)
        if len(clean_text(page.text)) < MIN_EXTRACTED_CHARS:
            raise ArticleRejected(
                f"no article text could be extracted from the page ({len(page.text)} characters found)"
            )
    text = command.text or (page.text if page else "")
    if not text.strip():
        raise ArticleRejected("submission has neither text nor html, and no page was fetched")
    aliases = {article_id(submitted)}
    if fetched_url:
        aliases.add(article_id(canonicalize_url(fetched_url)))
    return build_article(
        url=url,
        title=command.title or (page.title if page else None),
        text=text,
        source=command.source or (page.site_name if page else None),
        now=now,
        published_at=command.published_at or (page.published_at if page else None),
        language_hint=command.language or (page.language if page else None),
        authors=page.authors if page else (),
        image_url=page.image_url if page else None,
        aliases=tuple(sorted(aliases)),
        text_source="submission" if command.text else "page",
        taken_in=command.submitted_at,
    )


def article_from_entry(
    entry: FeedEntry,
    feed: ParsedFeed,
    *,
    text: str,
    source: str | None,
    feed_id: str,
    now: datetime,
    page: ExtractedPage | None = None,
    fetched_url: str | None = None,
    summary_only: bool = False,
    url: str | None = None,
) -> ArticleIngested:
    """The article a feed entry (with a link) describes.

    With ``page`` (the extraction of the page fetched from the link, which ended up at
    ``fetched_url``; see page_has_article) the text is the page's; otherwise it is the
    entry's ``text``, which is ``summary_only`` when the page was wanted and could not be
    had. ``url`` keeps the article where an earlier version of it is (else the page's
    canonical URL or the link). What the entry says wins over what the page says.
    """
    if not (entry.title or text.strip() or page):
        raise ArticleRejected("the entry has neither a title nor text")
    linked = canonicalize_url(entry.link)
    if page is not None:
        text = page.text
        url = url or choose_canonical(fetched_url or linked, page.canonical_url)
    return build_article(
        url=url or linked,
        title=entry.title or (page.title if page else None),
        text=text,
        source=source,
        now=now,
        published_at=entry.published_at or (page.published_at if page else None),
        language_hint=entry.language or feed.language or (page.language if page else None),
        authors=entry.authors or (page.authors if page else ()),
        image_url=entry.image_url or (page.image_url if page else None),
        aliases=tuple({_id_of(entry.link), _id_of(fetched_url or linked)}),
        feed_id=feed_id,
        text_source="page" if page is not None else "feed",
        summary_only=page is None and summary_only,
    )


def article_from_page(
    pending: PendingPage, page: ExtractedPage, *, fetched_url: str, feed_id: str, now: datetime
) -> ArticleIngested:
    """The next version of an article published with its feed's text, now that its page came:
    what the entry said (kept with the retry) and the page's text, under the article's URL."""
    if not page_has_article(page, ""):
        raise ArticleRejected("the page holds no article")
    return build_article(
        url=pending.article_url,
        title=pending.title or page.title,
        text=page.text,
        source=pending.source,
        now=now,
        published_at=pending.published_at or page.published_at,
        language_hint=pending.language or page.language,
        authors=tuple(pending.authors) or page.authors,
        image_url=pending.image_url or page.image_url,
        aliases=tuple({pending.entry_id, _id_of(fetched_url)}),
        feed_id=feed_id,
        text_source="page",
    )


def page_has_article(page: ExtractedPage, feed_text: str) -> bool:
    """Whether the page says more than the feed: an article, not a login wall or a stub."""
    return len(page.text) >= max(len(feed_text), MIN_EXTRACTED_CHARS)


def choose_canonical(fetched_url: str, declared: str | None) -> str:
    """The page's ``<link rel=canonical>`` when it names the same site, else the fetched URL.

    A page may only speak for its own site: a canonical pointing elsewhere would let any
    page overwrite another outlet's article.
    """
    fetched = canonicalize_url(fetched_url)
    if not declared:
        return fetched
    try:
        candidate = canonicalize_url(urljoin(fetched_url, declared.strip()))
    except InvalidURLError:
        return fetched
    return candidate if same_site(fetched, candidate) else fetched


def same_site(first: str, second: str) -> bool:
    """Whether two URLs are on one host, give or take ``www.``/``m.``/``amp.``, or a subdomain."""
    a, b = (_site_host(u) for u in (first, second))
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def clean_text(text: str) -> str:
    """Collapse runs of spaces, keep paragraphs (one blank line between them)."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def content_hash(title: str, text: str) -> str:
    """SHA-256 of what a reader sees; a new version of an article changes it."""
    return hashlib.sha256(f"{title}\n\n{text}".encode()).hexdigest()


def source_from_url(url: str) -> str:
    """The outlet name when none is given: the host without ``www.``."""
    host = urlsplit(url).hostname or "unknown"
    return host.removeprefix("www.")


def _id_of(url: str) -> str:
    return article_id(canonicalize_url(url))


def _site_host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    for prefix in _SAME_SITE_PREFIXES:
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host


def _language_code(value: str | None) -> str | None:
    if not value:
        return None
    code = value.split("-")[0].split("_")[0].lower()
    return code if code.isalpha() and 2 <= len(code) <= 3 else None


def _usable_url(url: str | None) -> str | None:
    if not url:
        return None
    try:
        canonicalize_url(url)
    except InvalidURLError:
        return None
    return url
