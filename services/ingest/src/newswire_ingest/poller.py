"""Polling one feed: fetch it (conditionally), read its entries, ingest the new ones."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from newswire_contracts import ArticleIngested, InvalidURLError, article_id, canonicalize_url
from newswire_platform import PermanentError

from .articles import MIN_EXTRACTED_CHARS, build_article, choose_canonical
from .cancellation import run_to_completion
from .feeds import FeedEntry, FeedParseError, ParsedFeed, entry_text, parse_feed
from .fetch import Fetcher, FetchError, freshness_seconds
from .pages import fetch_page
from .publishing import ArticleSink
from .store import ArticleVersions, FeedState

__all__ = ["FeedPoller", "PollOutcome", "PollProgress"]

log = logging.getLogger(__name__)

_ACCEPT_FEED = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)


@dataclass
class PollOutcome:
    """What one poll found; the scheduler turns it into the feed's new state."""

    ok: bool
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None
    freshness: float | None = None
    ttl: float | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    entries_seen: int = 0
    published: int = 0
    entry_errors: int = 0
    last_entry_error: str | None = None
    entry_times: list[datetime] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    feed_title: str | None = None
    site_url: str | None = None


@dataclass
class PollProgress:
    """What a poll under way has done so far: kept if the poll is abandoned midway."""

    published: int = 0


@dataclass(frozen=True)
class _EntryFailed:
    reason: str
    retry: bool  # a transient failure (a page that timed out): try the entry again next poll


class FeedPoller:
    """Fetches a feed and ingests its entries, with full text from the page when needed."""

    def __init__(
        self,
        fetcher: Fetcher,
        sink: ArticleSink,
        versions: ArticleVersions,
        *,
        max_entries: int,
        full_text_min_chars: int,
        clock: Callable[[], datetime],
        page_concurrency: int = 4,
    ) -> None:
        self._fetcher = fetcher
        self._sink = sink
        self._versions = versions
        self._max_entries = max_entries
        self._full_text_min_chars = full_text_min_chars
        self._clock = clock
        self._pages = asyncio.Semaphore(page_concurrency)

    async def poll(self, state: FeedState, progress: PollProgress | None = None) -> PollOutcome:
        """Poll the feed once. ``progress`` counts, as they happen, the entries published
        (a fresh count: the outcome's ``published`` is its final value)."""
        progress = progress if progress is not None else PollProgress()
        now = self._clock()
        try:
            fetched = await self._fetcher.get(
                state.url, etag=state.etag, last_modified=state.last_modified, accept=_ACCEPT_FEED
            )
        except FetchError as exc:
            return PollOutcome(
                ok=False, status=exc.status, error=exc.reason, retry_after=exc.retry_after
            )
        outcome = PollOutcome(
            ok=True,
            status=fetched.status,
            etag=fetched.etag or state.etag,
            last_modified=fetched.last_modified or state.last_modified,
            freshness=freshness_seconds(fetched.headers, now),
            not_modified=fetched.not_modified,
        )
        if fetched.not_modified:
            return outcome
        try:
            # Parsing is CPU-bound (up to a second for a huge feed): off the event loop.
            feed = await asyncio.to_thread(
                parse_feed, fetched.content, url=fetched.url, content_type=fetched.content_type
            )
        except FeedParseError as exc:
            outcome.ok, outcome.error = False, exc.reason
            return outcome
        outcome.ttl = feed.ttl_seconds
        outcome.warnings = list(feed.warnings)
        outcome.feed_title, outcome.site_url = feed.title, feed.site_url
        entries = feed.entries[: self._max_entries]
        outcome.entries_seen = len(entries)
        outcome.entry_times = sorted(
            (e.published_at for e in entries if e.published_at), reverse=True
        )[:50]
        # A task group, not gather: when the poll is cancelled (or an entry fails), it waits
        # for every entry to end, so an entry still finishing its publication is counted in
        # ``progress`` before the poll is seen to end.
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(self._ingest_entry(entry, feed, state, progress))
                for entry in entries
            ]
        outcome.published = progress.published
        retried = 0
        for result in (task.result() for task in tasks):
            if isinstance(result, _EntryFailed):
                outcome.entry_errors += 1
                outcome.last_entry_error = result.reason
                retried += result.retry
        if retried:
            # Without validators the next poll reads the whole feed again: the entries that
            # failed for now are tried again, the others are recognised by their hash.
            outcome.etag = outcome.last_modified = None
            outcome.warnings.append(f"{retried} entries failed for now; retried on the next poll")
        return outcome

    async def _ingest_entry(
        self, entry: FeedEntry, feed: ParsedFeed, state: FeedState, progress: PollProgress
    ) -> str | _EntryFailed:
        """The entry's outcome: new, changed, unchanged, skipped, or why it failed."""
        if not entry.link:
            return "skipped"
        try:
            url = canonicalize_url(entry.link)
        except InvalidURLError as exc:
            return _EntryFailed(f"{entry.link}: {exc}", retry=False)
        digest, entry_id = _entry_hash(entry), article_id(url)
        if await self._versions.entry_hash(entry_id) == digest:
            return "unchanged"  # seen exactly like this before: no page fetch
        text, page, final_url = await asyncio.to_thread(entry_text, entry), None, url
        if len(text) < self._full_text_min_chars:
            try:
                async with self._pages:
                    final_url, page = await fetch_page(self._fetcher, entry.link)
            except (FetchError, PermanentError) as exc:
                transient = isinstance(exc, FetchError) and not exc.permanent
                reason = exc.reason if isinstance(exc, FetchError) else str(exc)
                log.warning(
                    "entry page not ingested",
                    extra={"url": entry.link, "error": reason, "retried": transient},
                )
                return _EntryFailed(f"{entry.link}: {reason}", retry=transient)
            if len(page.text) >= max(len(text), MIN_EXTRACTED_CHARS):
                text = page.text
                url = choose_canonical(final_url, page.canonical_url)
        try:
            article = build_article(
                url=url,
                title=entry.title or (page.title if page else None),
                text=text,
                source=state.title or feed.title,
                now=self._clock(),
                published_at=entry.published_at or (page.published_at if page else None),
                language_hint=entry.language or feed.language or (page.language if page else None),
                authors=entry.authors or (page.authors if page else ()),
                image_url=entry.image_url or (page.image_url if page else None),
                aliases=tuple({_id_of(entry.link), _id_of(final_url)}),
                feed_id=state.id,
            )
        except PermanentError as exc:
            return _EntryFailed(f"{entry.link}: {exc}", retry=False)
        return await run_to_completion(self._publish(article, entry_id, digest, progress))

    async def _publish(
        self, article: ArticleIngested, entry_id: str, digest: str, progress: PollProgress
    ) -> str:
        outcome = await self._sink.offer(article)
        await self._versions.remember_entry(
            entry_id, entry_hash=digest, article_id=article.id, now=self._clock()
        )
        if outcome in ("new", "changed"):
            progress.published += 1
        return outcome


def _entry_hash(entry: FeedEntry) -> str:
    parts = [
        entry.link,
        entry.title,
        entry.content_html,
        entry.summary_html,
        str(entry.updated_at or entry.published_at),
    ]
    return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()


def _id_of(url: str) -> str:
    return article_id(canonicalize_url(url))
