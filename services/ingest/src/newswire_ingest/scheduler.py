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
import functools
import heapq
import logging
import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from newswire_platform import log_context

from .adapters.feed_store import FeedStore
from .cancellation import run_to_completion
from .domain.feed_state import FeedState, PollOutcome, polled_state
from .domain.schedule import PollTiming, after_failure
from .poller import FeedPoller

__all__ = ["FeedScheduler"]

log = logging.getLogger(__name__)


class FeedScheduler:
    """Polls owned feeds when due. No failure stops a feed: whatever goes wrong in a visit is
    recorded on its status with the step that failed, and the feed is scheduled again with
    backoff; a watchdog re-arms any owned feed found overdue and not being polled."""

    def __init__(
        self,
        store: FeedStore,
        poller: FeedPoller,
        timing: PollTiming,
        *,
        clock: Callable[[], datetime],
        concurrency: int = 8,
        poll_timeout_seconds: float = 600.0,
        watchdog_seconds: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._poller = poller
        self._timing = timing
        self._clock = clock
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(concurrency)
        self._poll_timeout = poll_timeout_seconds
        self._watchdog_seconds = watchdog_seconds
        self._assigned: set[int] = set()
        self._due: dict[str, datetime] = {}
        self._partition_of: dict[str, int] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._wakeup = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._runner: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self.rearmed = 0
        """Feeds the watchdog found overdue and not being polled (0 unless something is wrong)."""

    # -- ownership -----------------------------------------------------------------

    async def assign(self, partitions: Iterable[int]) -> None:
        """Take over the feeds of newly assigned partitions (reads every feed once)."""
        new = set(partitions) - self._assigned
        self._assigned |= new
        if not new:
            return
        states = [s for s in await self._store.all() if s.partition in new]
        for state in states:
            self._schedule(state.id, state.partition, state.wake_at())
        log.info("feeds assigned", extra={"partitions": sorted(new), "feeds": len(states)})

    async def revoke(self, partitions: Iterable[int]) -> None:
        """Stop polling the feeds of revoked partitions, abandoning polls under way.

        Kafka hands the partitions to another instance only once every member has returned
        from revocation, so cancelling here is what keeps two instances from polling one
        feed at once. An abandoned poll finishes the entries it is publishing (and counts
        them) and saves nothing else: the new owner finds the feed still due and polls it
        (articles already published are recognised as repeats).
        """
        gone = set(partitions)
        self._assigned -= gone
        feeds = [f for f, p in self._partition_of.items() if p in gone]
        for feed_id in feeds:
            self.remove(feed_id)
        abandoned = [self._tasks[f] for f in feeds if f in self._tasks]
        for task in abandoned:
            task.cancel()
        await asyncio.gather(*abandoned, return_exceptions=True)

    @property
    def owned(self) -> set[str]:
        return set(self._due)

    # -- commands ------------------------------------------------------------------

    def add(self, state: FeedState) -> None:
        """A feed was (re)subscribed through one of this instance's partitions: schedule it.

        A command still being handled when its partition was revoked is not scheduled here:
        its offset is not committed, so the partition's new owner handles it again.
        """
        if state.partition not in self._assigned:
            log.warning("feed command of a partition not held", extra={"feed_id": state.id})
            return
        self._schedule(state.id, state.partition, state.wake_at())

    def remove(self, feed_id: str) -> None:
        """Stop polling the feed."""
        self._due.pop(feed_id, None)
        self._partition_of.pop(feed_id, None)

    # -- running -------------------------------------------------------------------

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name="feed-scheduler")
        self._watchdog = asyncio.create_task(self._watch(), name="feed-watchdog")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop scheduling; let polls under way finish for ``grace`` seconds, then cancel."""
        for task in (self._watchdog, self._runner):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._runner = self._watchdog = None
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
                task.add_done_callback(functools.partial(self._forget, feed_id))
            delay = (self._heap[0][0] - now).total_seconds() if self._heap else 3600.0
            self._wakeup.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that arrives as the event is set, and stop() would wait for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, min(delay, 3600.0))):
                    await self._wakeup.wait()

    async def _watch(self) -> None:
        """Every ``watchdog_seconds``: restart the scheduling loop if it died, and re-arm
        owned feeds overdue by more than that and not being polled."""
        while True:
            await asyncio.sleep(self._watchdog_seconds)
            try:
                self.check()
            except Exception:
                log.exception("feed watchdog failed")

    def check(self) -> int:
        """One watchdog round; how many feeds it re-armed."""
        if self._runner is not None and self._runner.done():
            if not self._runner.cancelled() and self._runner.exception() is not None:
                log.error(
                    "feed scheduler loop died; restarting it", exc_info=self._runner.exception()
                )
            self._runner = asyncio.create_task(self._run(), name="feed-scheduler")
        late = self._clock() - timedelta(seconds=self._watchdog_seconds)
        overdue = [f for f, when in self._due.items() if when < late and f not in self._tasks]
        for feed_id in overdue:
            log.warning("feed overdue and not being polled; re-armed", extra={"feed_id": feed_id})
            heapq.heappush(self._heap, (self._due[feed_id], feed_id))
        if overdue:
            self.rearmed += len(overdue)
            self._wakeup.set()
        return len(overdue)

    async def _poll(self, feed_id: str) -> None:
        try:
            async with self._slots:
                # Read the feed afresh: it may have been changed or unsubscribed meanwhile.
                state = await self._store.get(feed_id)
                if state is None or feed_id not in self._due:
                    self.remove(feed_id)
                    return
                with log_context(feed_id=feed_id):
                    outcome = await self._visit(state)
                    updated = self._after(state, outcome)
                    if feed_id in self._due:  # not revoked or removed meanwhile
                        await self._record(state, updated)
                    if outcome.fetched or not outcome.ok:
                        # An unchanged feed (304) is the common case: not worth a line each.
                        level = logging.DEBUG if outcome.not_modified else logging.INFO
                        log.log(
                            level,
                            "feed polled" if outcome.ok else "feed poll failed",
                            extra={
                                "url": state.url,
                                "status": outcome.status,
                                "error": outcome.error,
                                "step": outcome.error_step,
                                "entries": outcome.entries_seen,
                                "published": outcome.published,
                                "next_fetch_at": updated.next_fetch_at.isoformat(),
                            },
                        )
        except Exception:
            # Reading the feed failed (the store is down) or a bug: retry after the minimum
            # interval; the status is written by the next visit that can.
            log.exception("feed poll crashed", extra={"feed_id": feed_id})
            self._retry_soon(feed_id)

    def _forget(self, feed_id: str, task: asyncio.Task[None]) -> None:
        # A done callback, not a ``finally`` in _poll: a poll cancelled by a rebalance before
        # its first step never runs its body, and would stay marked as under way for good.
        if self._tasks.get(feed_id) is task:
            del self._tasks[feed_id]
            # The poll scheduled the feed's next time before it ended, and the loop, woken for
            # it, runs before this callback: a time already due (a page retry due, a long poll)
            # was popped and passed over as "being polled". Put it back.
            when = self._due.get(feed_id)
            if when is not None and when <= self._clock():
                heapq.heappush(self._heap, (when, feed_id))
                self._wakeup.set()

    async def _visit(self, state: FeedState) -> PollOutcome:
        """The poller's outcome; a failure of any kind, or too long a poll, is an outcome too."""
        try:
            async with asyncio.timeout(self._poll_timeout):
                return await self._poller.poll(state)
        except TimeoutError:
            log.error("feed poll timed out", extra={"seconds": self._poll_timeout})
            return PollOutcome.failed("poll", f"timed out after {self._poll_timeout:g} s")
        except Exception as exc:
            log.exception("feed poll failed unexpectedly")
            return PollOutcome.failed("poll", exc)

    def _after(self, state: FeedState, outcome: PollOutcome) -> FeedState:
        try:
            return polled_state(
                state, outcome, timing=self._timing, now=self._clock(), rng=self._rng
            )
        except Exception as exc:
            log.exception("feed state after a poll could not be made")
            failed = PollOutcome.failed("poll", exc)
            return polled_state(
                state, failed, timing=self._timing, now=self._clock(), rng=self._rng
            )

    async def _record(self, before: FeedState, after: FeedState) -> None:
        try:
            # Whole: what a poll found is saved together or not at all.
            await run_to_completion(self._store.record_poll(before, after))
        except Exception:
            log.exception("feed status not saved; visited again soon")
            self._retry_soon(before.id)
            return
        self._schedule(after.id, after.partition, after.wake_at())

    def _retry_soon(self, feed_id: str) -> None:
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

    # -- bookkeeping -----------------------------------------------------------------

    def _schedule(self, feed_id: str, partition: int, when: datetime) -> None:
        self._due[feed_id] = when
        self._partition_of[feed_id] = partition
        heapq.heappush(self._heap, (when, feed_id))
        self._wakeup.set()
