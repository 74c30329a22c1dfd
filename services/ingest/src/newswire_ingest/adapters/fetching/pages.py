"""Fetching an article's page and extracting it."""

from __future__ import annotations

import asyncio

from newswire_ingest.domain.articles import ArticleRejected
from newswire_ingest.domain.extract import ExtractedPage, extract_page
from newswire_ingest.domain.media_types import HTML_TYPES

from .fetcher import Fetcher

__all__ = ["fetch_page"]

_ACCEPT_HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"


async def fetch_page(fetcher: Fetcher, url: str) -> tuple[str, ExtractedPage]:
    """(final URL, extraction) of the page at ``url``.

    Raises ArticleRejected for what is not an HTML page, and FetchError for what could not
    be fetched.
    """
    fetched = await fetcher.get(url, accept=_ACCEPT_HTML)
    if fetched.content_type is not None and fetched.content_type not in HTML_TYPES:
        raise ArticleRejected(f"not an HTML page: {fetched.content_type} at {fetched.url}")
    html = fetched.text()
    if "\x00" in html[:4096]:
        raise ArticleRejected(f"binary content, not an HTML page, at {fetched.url}")
    page = await asyncio.to_thread(extract_page, html, fetched.url)
    return fetched.url, page
