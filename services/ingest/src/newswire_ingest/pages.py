"""An entry's page: fetched for its text when the feed has only a summary, and fetched again
in the background (with backoff, up to a number of attempts) when it failed for now, its text
then becoming the article's next version."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from newswire_contracts import ArticleIngested

from .adapters.entry_store import EntryStore
from .adapters.fetching import Fetcher, FetchError, fetch_page
from .adapters.publishing import ArticleSink
from .cancellation import run_to_completion
from .domain.articles import ArticleRejected, article_from_page, page_has_article
from .domain.extract import ExtractedPage
from .domain.page_retries import (
    PageRetryTiming,
    PendingPage,
    after_page_failure,
    first_retry_at,
)
from .domain.versions import Basis
from .ledger import FeedLedger

__all__ = ["PageFailure", "PageRetrier", "Pages"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageFailure:
    """Why a page cannot be had; ``permanent`` when trying again cannot help."""

    reason: str
    permanent: bool
    retry_after: float | None = None


class Pages:
    """Fetches and extracts entries' pages, a few at once."""

    def __init__(self, fetcher: Fetcher, *, concurrency: int) -> None:
        self._fetcher = fetcher
        self._slots = asyncio.Semaphore(concurrency)

    async def fetch(
        self, link: str, feed_text: str
    ) -> tuple[ExtractedPage | None, str | None, PageFailure | None]:
        """(page, where it was fetched, None), or why it cannot be had (now or ever)."""
        try:
            async with self._slots:
                fetched_url, page = await fetch_page(self._fetcher, link)
        except FetchError as exc:
            return None, None, PageFailure(exc.reason, exc.permanent, exc.retry_after)
        except ArticleRejected as exc:
            return None, None, PageFailure(str(exc), permanent=True)
        except Exception as exc:
            # A page that breaks the extractor breaks it every time: not retried.
            log.exception("page extraction failed", extra={"url": link})
            return None, None, PageFailure(f"extraction failed: {type(exc).__name__}", True)
        if not page_has_article(page, feed_text):
            reason = f"no article on the page ({len(page.text)} characters of text)"
            return None, fetched_url, PageFailure(reason, permanent=True)
        return page, fetched_url, None


@dataclass(frozen=True)
class PageRetrier:
    """Retries a feed's pending pages that are due, and publishes what they bring."""

    pages: Pages
    sink: ArticleSink
    entries: EntryStore
    timing: PageRetryTiming
    clock: Callable[[], datetime]
    rng: random.Random

    def first_retry(self, failure: PageFailure) -> datetime:
        return first_retry_at(
            retry_after=failure.retry_after, timing=self.timing, now=self.clock(), rng=self.rng
        )

    async def retry_due(self, ledger: FeedLedger) -> str | None:
        """Fetch the pages that are due (but not those this visit fetched already); why one
        failed for a reason of ours, if one did."""
        due = ledger.book.due(self.clock(), skip=ledger.tried)
        if not due:
            return None
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._retry_page(p, ledger)) for p in due]
        failures = [reason for task in tasks if (reason := task.result())]
        return f"{len(failures)} page retries failed; {failures[0]}" if failures else None

    async def _retry_page(self, pending: PendingPage, ledger: FeedLedger) -> str | None:
        book = ledger.book
        page, fetched_url, failure = await self.pages.fetch(pending.link, "")
        now = self.clock()
        if failure is not None:
            if failure.permanent:
                log.info("page given up", extra={"url": pending.link, "error": failure.reason})
                book.settle(pending.entry_id)
                return None
            later = after_page_failure(
                pending,
                error=failure.reason,
                retry_after=failure.retry_after,
                timing=self.timing,
                now=now,
                rng=self.rng,
            )
            if later is None:
                log.info("page attempts used up", extra={"url": pending.link})
                book.settle(pending.entry_id)
            else:
                book.put(later)
            return None
        assert page is not None
        assert fetched_url is not None
        try:
            article = article_from_page(
                pending, page, fetched_url=fetched_url, feed_id=ledger.state.id, now=now
            )
            await run_to_completion(self._upgrade(article, pending, ledger))
        except ArticleRejected as exc:
            book.settle(pending.entry_id)
            log.info("page given up", extra={"url": pending.link, "error": str(exc)})
        except Exception as exc:
            log.exception("page retry failed", extra={"url": pending.link})
            # Not the page's fault: try again later without using up an attempt.
            book.put(
                pending.model_copy(
                    update={
                        "next_at": first_retry_at(
                            retry_after=None, timing=self.timing, now=now, rng=self.rng
                        ),
                        "last_error": f"{type(exc).__name__}: {exc}"[:500],
                    }
                )
            )
            return f"{pending.link}: {type(exc).__name__}: {exc}"
        return None

    async def _upgrade(
        self, article: ArticleIngested, pending: PendingPage, ledger: FeedLedger
    ) -> None:
        basis = Basis.page(pending.basis_version, edit=pending.edit)
        offered = await self.sink.offer(article, basis, known_version=pending.basis_version)
        if offered.outcome == "pending":
            return  # kept: retried when next due, as it was
        latest = offered.latest
        feed_id = ledger.state.id
        if latest.feed_id == feed_id and pending.basis_version < latest.version:
            await ledger.count(latest.claim_id)
        await self.entries.known_version(feed_id, pending.entry_id, latest.version)
        ledger.book.settle(pending.entry_id)
