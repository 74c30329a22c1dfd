"""One visit to a feed: poll it if it is due (fetch it conditionally, parse it, ingest each
new or changed entry), then retry the pages that are due.

An entry is ingested as follows: skip it if its feed saw it unchanged; take the page's text
when the entry's own is short and the page can be had, else publish the entry's text
(``summary_only``) at once and keep retrying the page in the background; offer the article
(see adapters.publishing: one version per change, whoever else offers it); count it once;
remember the entry.

Nothing that fails here escapes: the outcome says which step failed and why, and the
scheduler records it and backs off.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from newswire_contracts import ArticleIngested, InvalidURLError, article_id, canonicalize_url

from .adapters.entry_store import EntryMemory, EntryStore
from .adapters.feed_store import FeedStore
from .adapters.fetching import Fetcher, FetchError, freshness_seconds
from .adapters.publishing import ArticleSink, Offered
from .cancellation import run_to_completion
from .domain.articles import ArticleRejected, article_from_entry
from .domain.extract import ExtractedPage
from .domain.feed_state import FeedState, PollOutcome
from .domain.feeds import FeedEntry, FeedParseError, ParsedFeed, entry_hash, entry_text, parse_feed
from .domain.page_retries import PageRetryTiming, PendingPage
from .domain.versions import Basis, VersionRecord
from .ledger import FeedLedger
from .pages import PageFailure, PageRetrier, Pages

__all__ = ["FeedPoller"]

log = logging.getLogger(__name__)

_ACCEPT_FEED = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)


@dataclass(frozen=True)
class _Entry:
    """How one entry went: ``outcome`` as in adapters.publishing (or ``known``), or why it
    failed: ``rejected`` (never ingestible), ``pending`` (try it on the next poll), ``broken``
    (a failure of ours: the poll fails at ``step``)."""

    outcome: str
    reason: str | None = None
    step: str | None = None
    page_error: str | None = None


def _broken(step: str, link: str, error: BaseException) -> _Entry:
    return _Entry("broken", f"{link}: {step}: {type(error).__name__}: {error}", step=step)


class FeedPoller:
    """Fetches a feed and ingests its entries, with full text from the page when needed."""

    def __init__(
        self,
        fetcher: Fetcher,
        sink: ArticleSink,
        entries: EntryStore,
        feeds: FeedStore,
        *,
        max_entries: int,
        full_text_min_chars: int,
        page_timing: PageRetryTiming,
        clock: Callable[[], datetime],
        page_concurrency: int = 4,
        rng: random.Random | None = None,
    ) -> None:
        self._fetcher = fetcher
        self._sink = sink
        self._entries = entries
        self._feeds = feeds
        self._max_entries = max_entries
        self._full_text_min_chars = full_text_min_chars
        self._clock = clock
        self._pages = Pages(fetcher, concurrency=page_concurrency)
        self._retrier = PageRetrier(
            self._pages, sink, entries, page_timing, clock, rng or random.Random()
        )

    async def poll(self, state: FeedState) -> PollOutcome:
        """Visit the feed: poll it if due, then retry its due pages."""
        ledger = FeedLedger(self._feeds, state)
        if state.is_due(self._clock()):
            outcome = await self._poll_feed(ledger)
        else:
            outcome = PollOutcome(ok=True, fetched=False)
        failure = await self._retrier.retry_due(ledger)
        if failure is not None and outcome.ok:
            outcome.ok, outcome.error, outcome.error_step = False, failure, "pages"
        outcome.published = ledger.published
        if ledger.book.changed:
            outcome.pending_pages = ledger.book.listing()
        return outcome

    # -- the feed ------------------------------------------------------------------

    async def _poll_feed(self, ledger: FeedLedger) -> PollOutcome:
        state, now = ledger.state, self._clock()
        try:
            fetched = await self._fetcher.get(
                state.url, etag=state.etag, last_modified=state.last_modified, accept=_ACCEPT_FEED
            )
        except FetchError as exc:
            return PollOutcome(
                ok=False,
                status=exc.status,
                error=exc.reason,
                error_step="fetch",
                retry_after=exc.retry_after,
            )
        except Exception as exc:
            log.exception("feed fetch failed unexpectedly")
            return PollOutcome.failed("fetch", exc)
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
            outcome.ok, outcome.error, outcome.error_step = False, exc.reason, "parse"
            return outcome
        except Exception as exc:
            log.exception("feed parsing failed unexpectedly")
            return PollOutcome.failed("parse", exc, status=fetched.status)
        outcome.ttl = feed.ttl_seconds
        outcome.warnings = list(feed.warnings)
        outcome.feed_title, outcome.site_url = feed.title, feed.site_url
        entries = _distinct_links(feed.entries[: self._max_entries])
        outcome.entries_seen = len(entries)
        outcome.entry_times = sorted(
            (e.published_at for e in entries if e.published_at), reverse=True
        )[:50]
        # A task group: when the poll is cancelled it waits for every entry to end, so an
        # entry being published is finished (and counted) before the poll is seen to end.
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(self._ingest_entry(entry, feed, ledger)) for entry in entries
            ]
        results = [task.result() for task in tasks]
        self._summarise(outcome, results)
        return outcome

    @staticmethod
    def _summarise(outcome: PollOutcome, results: list[_Entry]) -> None:
        for result in results:
            if result.page_error:
                outcome.last_entry_error = result.page_error
            if result.outcome in ("rejected", "pending", "broken"):
                outcome.entry_errors += 1
                outcome.last_entry_error = result.reason
        broken = [r for r in results if r.outcome == "broken"]
        if broken:
            # Store, broker or a bug: the poll failed (and backs off); the entries done are
            # remembered, the others are read again by the next poll (its validators are
            # not kept: a failed poll keeps the previous ones).
            outcome.ok, outcome.error_step = False, "entries"
            outcome.error = f"{len(broken)} of {len(results)} entries failed; {broken[0].reason}"
            return
        retried = sum(r.outcome == "pending" for r in results)
        if retried:
            # Without validators the next poll reads the whole feed again: these entries are
            # tried again, the others are recognised by their hash.
            outcome.etag = outcome.last_modified = None
            outcome.warnings.append(
                f"{retried} entries were being written by another writer; retried on the next poll"
            )

    async def _ingest_entry(self, entry: FeedEntry, feed: ParsedFeed, ledger: FeedLedger) -> _Entry:
        link, state = entry.link, ledger.state
        try:
            entry_id = article_id(canonicalize_url(link))
        except InvalidURLError as exc:
            return _Entry("rejected", f"{link}: {exc}")
        step = "store"
        try:
            digest = entry_hash(entry)
            memory = await self._entries.get(state.id, entry_id)
            if memory is not None and memory.entry_hash == digest:
                return _Entry("unchanged")  # seen exactly like this before: no page fetch
            text = await asyncio.to_thread(entry_text, entry)
            wants_page = len(text) < self._full_text_min_chars
            basis = Basis.changed_since(memory.version) if memory else Basis.new()
            url = memory.article_url if memory else None
            known = memory.version if memory else None
            if memory is None:
                latest = await self._sink.latest(entry_id)
                known = 0  # none yet: the offer needs not look for older ones again
                if latest is not None:
                    # Another feed (of the same outlet, say) made this entry's article.
                    url, known = latest.url, latest.version
                    # A summary adds nothing; its page is that feed's to fetch. (A claim not
                    # yet published goes the whole way: the offer waits for it or takes
                    # it over, and the writer may be this feed before a crash.)
                    if wants_page and latest.published:
                        await run_to_completion(
                            self._settle(ledger, entry_id, digest, memory, latest)
                        )
                        return _Entry("known")
            page: ExtractedPage | None = None
            fetched_url: str | None = None
            failure: PageFailure | None = None
            if wants_page:
                step = "page"
                ledger.tried.add(entry_id)
                page, fetched_url, failure = await self._pages.fetch(link, text)
            step = "article"
            article = article_from_entry(
                entry,
                feed,
                text=text,
                source=state.title or feed.title,
                feed_id=state.id,
                now=self._clock(),
                page=page,
                fetched_url=fetched_url,
                summary_only=wants_page,
                url=url,
            )
        except ArticleRejected as exc:
            return _Entry("rejected", f"{link}: {exc}")
        except Exception as exc:
            log.exception("entry failed", extra={"url": link, "step": step})
            return _broken(step, link, exc)
        try:
            result = await run_to_completion(
                self._publish_entry(article, basis, known, ledger, link, digest, memory, failure)
            )
        except Exception as exc:
            log.exception("entry not published", extra={"url": link})
            return _broken("publish", link, exc)
        page_error = f"{link}: page: {failure.reason}" if failure else None
        return _Entry(result, page_error=page_error)

    async def _publish_entry(
        self,
        article: ArticleIngested,
        basis: Basis,
        known: int | None,
        ledger: FeedLedger,
        link: str,
        digest: str,
        memory: EntryMemory | None,
        failure: PageFailure | None,
    ) -> str:
        entry_id = article_id(canonicalize_url(link))
        if article.id != entry_id and not known:
            known = None  # the page named another URL: what is known is of the link's id
        offered = await self._sink.offer(article, basis, known_version=known)
        if offered.outcome == "pending":
            return "pending"
        book = ledger.book
        if failure is None:
            if not article.summary_only:
                book.settle(entry_id)  # the page came, or the feed has the full text
        elif not failure.permanent and offered.outcome in ("new", "changed", "kept"):
            book.put(self._pending(article, link, offered, failure))
            # Saved before the entry is remembered: an instance killed in between must not
            # leave a published summary whose page nobody will try again.
            await self._feeds.save_pending_pages(ledger.state.id, book.listing())
        elif failure.permanent:
            book.settle(entry_id)
        await self._settle(ledger, entry_id, digest, memory, offered.latest)
        return offered.outcome

    async def _settle(
        self,
        ledger: FeedLedger,
        entry_id: str,
        digest: str,
        memory: EntryMemory | None,
        latest: VersionRecord,
    ) -> None:
        """Count what this feed published (once), then remember the entry."""
        feed_id = ledger.state.id
        if latest.feed_id == feed_id and (memory is None or memory.version < latest.version):
            await ledger.count(latest.claim_id)
        await self._entries.remember(
            feed_id,
            entry_id,
            EntryMemory(digest, latest.article_id, latest.url, latest.version),
            now=self._clock(),
        )

    def _pending(
        self, article: ArticleIngested, link: str, offered: Offered, failure: PageFailure
    ) -> PendingPage:
        latest = offered.latest
        return PendingPage(
            link=link,
            entry_id=article_id(canonicalize_url(link)),
            article_id=latest.article_id,
            article_url=latest.url,
            basis_version=latest.version,
            edit=offered.outcome == "kept",  # an edit held back for want of the page
            attempts=1,
            next_at=self._retrier.first_retry(failure),
            last_error=failure.reason[:500],
            title=article.title or None,
            published_at=article.published_at,
            authors=list(article.authors),
            language=article.language_hint,
            image_url=article.image_url,
            source=article.source,
        )


def _distinct_links(entries: Sequence[FeedEntry]) -> list[FeedEntry]:
    """The first entry of each link: a feed listing one link twice describes one article."""
    first: dict[str, FeedEntry] = {}
    for entry in entries:
        first.setdefault(entry.link, entry)
    return list(first.values())
