"""Polling one feed: fetch it (conditionally), parse it, then ingest each new entry: decide
whether it is new, fetch its page if its own text is short, build the article, publish it,
remember the entry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from newswire_contracts import ArticleIngested, InvalidURLError, article_id, canonicalize_url

from .adapters.fetching import Fetcher, FetchError, fetch_page, freshness_seconds
from .adapters.publishing import ArticleSink
from .adapters.store import ArticleVersions
from .cancellation import run_to_completion
from .domain.articles import ArticleRejected, article_from_entry
from .domain.extract import ExtractedPage
from .domain.feed_state import FeedState, PollOutcome
from .domain.feeds import FeedEntry, FeedParseError, ParsedFeed, entry_hash, entry_text, parse_feed

__all__ = ["FeedPoller", "PollProgress"]

log = logging.getLogger(__name__)

_ACCEPT_FEED = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)


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
            entry_id = article_id(canonicalize_url(entry.link))
        except InvalidURLError as exc:
            return _EntryFailed(f"{entry.link}: {exc}", retry=False)
        digest = entry_hash(entry)
        if await self._versions.entry_hash(entry_id) == digest:
            return "unchanged"  # seen exactly like this before: no page fetch
        text = await asyncio.to_thread(entry_text, entry)
        page: ExtractedPage | None = None
        fetched_url = None
        if len(text) < self._full_text_min_chars:
            try:
                async with self._pages:
                    fetched_url, page = await fetch_page(self._fetcher, entry.link)
            except (FetchError, ArticleRejected) as exc:
                transient = isinstance(exc, FetchError) and not exc.permanent
                reason = exc.reason if isinstance(exc, FetchError) else str(exc)
                log.warning(
                    "entry page not ingested",
                    extra={"url": entry.link, "error": reason, "retried": transient},
                )
                return _EntryFailed(f"{entry.link}: {reason}", retry=transient)
        try:
            article = article_from_entry(
                entry,
                feed,
                text=text,
                source=state.title or feed.title,
                feed_id=state.id,
                now=self._clock(),
                page=page,
                fetched_url=fetched_url,
            )
        except ArticleRejected as exc:
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
