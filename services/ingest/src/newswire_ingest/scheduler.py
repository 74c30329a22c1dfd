"""The feed scheduler: polls the feeds this instance owns, each when it is due.

Ownership is partitioned by Kafka rather than leased in the store. Feed commands travel on
``ingest.requests`` keyed by feed id, so each feed's commands land in one partition, and
the consumer group gives each partition to exactly one ingest instance at a time. An
instance polls only the feeds of the partitions it holds; on a rebalance it drops the
feeds of revoked partitions and loads those of newly assigned ones from the store. Two
instances therefore never poll one feed at once, and no lock or lease is needed (which a
FerretDB-backed store could only take by scanning). The schedule (``next_fetch_at``) is
persisted after every poll, so a restart resumes it instead of polling everything again.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import random
from collections.abc import Callable, Iterable
from datetime import datetime

from newswire_platform import log_context

from .adapters.store import FeedStore
from .cancellation import run_to_completion
from .domain.feed_state import FeedState, polled_state
from .domain.schedule import PollTiming, after_failure
from .poller import FeedPoller, PollProgress

__all__ = ["FeedScheduler"]

log = logging.getLogger(__name__)


class FeedScheduler:
    def __init__(
        self,
        store: FeedStore,
        poller: FeedPoller,
        timing: PollTiming,
        *,
        clock: Callable[[], datetime],
        concurrency: int = 8,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._poller = poller
        self._timing = timing
        self._clock = clock
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(concurrency)
        self._assigned: set[int] = set()
        self._due: dict[str, datetime] = {}
        self._partition_of: dict[str, int] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._wakeup = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._runner: asyncio.Task[None] | None = None

    # -- ownership -----------------------------------------------------------------

    async def assign(self, partitions: Iterable[int]) -> None:
        """Take over the feeds of newly assigned partitions (reads every feed once)."""
        new = set(partitions) - self._assigned
        self._assigned |= new
        if not new:
            return
        states = [s for s in await self._store.all() if s.partition in new]
        for state in states:
            self._schedule(state.id, state.partition, state.next_fetch_at)
        log.info("feeds assigned", extra={"partitions": sorted(new), "feeds": len(states)})

    async def revoke(self, partitions: Iterable[int]) -> None:
        """Stop polling the feeds of revoked partitions, abandoning polls under way.

        Kafka hands the partitions to another instance only once every member has returned
        from revocation, so cancelling here is what keeps two instances from polling one
        feed at once. An abandoned poll saves nothing: the new owner finds the feed still
        due and polls it (articles already published are recognised as repeats).
        """
        gone = set(partitions)
        self._assigned -= gone
        feeds = [f for f, p in self._partition_of.items() if p in gone]
        for feed_id in feeds:
            self._forget(feed_id)
        abandoned = [self._tasks[f] for f in feeds if f in self._tasks]
        for task in abandoned:
            task.cancel()
        await asyncio.gather(*abandoned, return_exceptions=True)

    @property
    def owned(self) -> set[str]:
        return set(self._due)

    # -- commands ------------------------------------------------------------------

    def add(self, state: FeedState) -> None:
        """A feed was (re)subscribed through this instance's partition: schedule it."""
        self._assigned.add(state.partition)
        self._schedule(state.id, state.partition, state.next_fetch_at)

    def remove(self, feed_id: str) -> None:
        self._forget(feed_id)

    # -- running -------------------------------------------------------------------

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name="feed-scheduler")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop scheduling; let polls under way finish for ``grace`` seconds, then cancel."""
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks.values(), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            now = self._clock()
            while self._heap and self._heap[0][0] <= now:
                when, feed_id = heapq.heappop(self._heap)
                if self._due.get(feed_id) != when or feed_id in self._tasks:
                    continue  # rescheduled, removed, or still being polled
                task = asyncio.create_task(self._poll(feed_id), name=f"poll-{feed_id}")
                self._tasks[feed_id] = task
            delay = (self._heap[0][0] - now).total_seconds() if self._heap else 3600.0
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=max(0.0, min(delay, 3600.0)))

    async def _poll(self, feed_id: str) -> None:
        try:
            async with self._slots:
                # Read the feed afresh: it may have been changed or unsubscribed meanwhile.
                state = await self._store.get(feed_id)
                if state is None or feed_id not in self._due:
                    self._forget(feed_id)
                    return
                with log_context(feed_id=feed_id):
                    progress = PollProgress()
                    try:
                        outcome = await self._poller.poll(state, progress)
                    except BaseException:
                        # Abandoned (revoked, stopped) or crashed midway: the articles it
                        # published are counted, as the next poll will not publish them again.
                        if progress.published:
                            await self._count_abandoned(feed_id, progress.published)
                        raise
                    updated = polled_state(
                        state, outcome, timing=self._timing, now=self._clock(), rng=self._rng
                    )
                    if feed_id in self._due:  # not revoked or removed meanwhile
                        # Whole, or the articles it counts would be lost with it.
                        await run_to_completion(self._store.record_poll(state, updated))
                        self._schedule(feed_id, updated.partition, updated.next_fetch_at)
                    log.info(
                        "feed polled" if outcome.ok else "feed poll failed",
                        extra={
                            "url": state.url,
                            "status": outcome.status,
                            "error": outcome.error,
                            "entries": outcome.entries_seen,
                            "published": outcome.published,
                            "next_fetch_at": updated.next_fetch_at.isoformat(),
                        },
                    )
        except Exception:
            # A bug in one poll must not stop the others; retry it after the minimum interval.
            log.exception("feed poll crashed", extra={"feed_id": feed_id})
            retry = after_failure(
                self._timing,
                interval_seconds=self._timing.min_seconds,
                error_count=1,
                retry_after=None,
                now=self._clock(),
                rng=self._rng,
            )
            if feed_id in self._due:
                self._schedule(feed_id, self._partition_of[feed_id], retry)
        finally:
            self._tasks.pop(feed_id, None)

    async def _count_abandoned(self, feed_id: str, published: int) -> None:
        try:
            await run_to_completion(self._store.count_published(feed_id, published))
        except Exception:
            # The store is down: the count is short, but the poll's own ending (a cancellation
            # above all) must go on.
            log.exception("published count of an abandoned poll not saved", extra={"n": published})

    # -- bookkeeping -----------------------------------------------------------------

    def _schedule(self, feed_id: str, partition: int, when: datetime) -> None:
        self._due[feed_id] = when
        self._partition_of[feed_id] = partition
        heapq.heappush(self._heap, (when, feed_id))
        self._wakeup.set()

    def _forget(self, feed_id: str) -> None:
        self._due.pop(feed_id, None)
        self._partition_of.pop(feed_id, None)
