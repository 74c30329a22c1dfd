"""Turning an ingest command into an ingested article: the ingest service's rules."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from urllib.parse import urlsplit

from newswire_contracts import (
    MAX_TEXT_CHARS,
    ArticleIngested,
    IngestArticle,
    InvalidURLError,
    article_id,
    canonicalize_url,
)
from newswire_platform import PermanentError

from .extract import ExtractedPage, extract_page

__all__ = ["article_from_submission", "clean_text", "content_hash", "source_from_url"]

# Less than this from a whole page is navigation or a paywall stub, not an article.
MIN_EXTRACTED_CHARS = 200

_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def article_from_submission(command: IngestArticle, *, now: datetime) -> ArticleIngested:
    """Build the ingested article from an inline submission (text, or HTML to extract).

    Raises PermanentError when there is no text to be had.
    """
    url = canonicalize_url(command.url)
    page = extract_page(command.html, url) if command.html and not command.text else None
    text = clean_text(command.text or (page.text if page else ""))
    if page is not None and len(text) < MIN_EXTRACTED_CHARS:
        raise PermanentError(
            f"no article text could be extracted from the submitted HTML ({len(text)} characters found)"
        )
    if not text:
        raise PermanentError("submission has neither text nor html; fetching pages is not enabled")
    truncated = len(text) > MAX_TEXT_CHARS
    text = text[:MAX_TEXT_CHARS]
    title = (command.title or (page.title if page else None) or "").strip()[:1_000]
    return ArticleIngested(
        id=article_id(url),
        url=url,
        source=command.source or (page.site_name if page else None) or source_from_url(url),
        title=title,
        text=text,
        text_truncated=truncated,
        published_at=command.published_at or (page.published_at if page else None),
        ingested_at=now,
        language_hint=command.language or _language_hint(page),
        authors=page.authors[:50] if page else (),
        image_url=_usable_url(page.image_url) if page else None,
        content_hash=content_hash(title, text),
    )


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


def _language_hint(page: ExtractedPage | None) -> str | None:
    if page is None or not page.language:
        return None
    code = page.language.split("-")[0].lower()
    return code if code.isalpha() and 2 <= len(code) <= 3 else None


def _usable_url(url: str | None) -> str | None:
    if not url:
        return None
    try:
        canonicalize_url(url)
    except InvalidURLError:
        return None
    return url
