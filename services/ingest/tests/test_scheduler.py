"""The feed scheduler against the real store: ownership by partition, persisted schedule, and
no failure of a poll (a bug, a hang, the store) leaving a feed unscheduled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from newswire_ingest.adapters.feed_store import FeedStore
from newswire_ingest.domain.feed_state import FeedState, PollOutcome
from newswire_ingest.domain.page_retries import PendingPage
from newswire_ingest.domain.schedule import PollTiming
from newswire_ingest.ledger import FeedLedger
from newswire_ingest.scheduler import FeedScheduler
from newswire_platform import StoreUnavailable

from tests.support import eventually

pytestmark = pytest.mark.integration

TIMING = PollTiming(
    default_seconds=3600,
    min_seconds=3600,
    max_seconds=7200,
    max_backoff_seconds=7200,
    jitter_ratio=0,
)


class RecordingPoller:
    """Stands in for the HTTP side: records which feeds were polled, succeeds or fails."""

    def __init__(self, failing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.polled: list[str] = []
        self.failing = failing

    async def poll(self, state: FeedState) -> PollOutcome:
        self.polled.append(state.id)
        if state.id in self.failing:
            return PollOutcome(
                ok=False, status=503, error="HTTP 503 Service Unavailable", retry_after=9000
            )
        return PollOutcome(ok=True, status=200, entries_seen=3, published=2, etag='"e"')


def feed(name: str, *, partition: int, due_in: float) -> FeedState:
    now = datetime.now(UTC)
    return FeedState(
        id=name.ljust(32, "0"),
        url=f"https://news.example/{name}.xml",
        partition=partition,
        subscribed_at=now,
        next_fetch_at=now + timedelta(seconds=due_in),
        interval_seconds=3600,
    )


@pytest.fixture
def store(scratch_database) -> FeedStore:  # type: ignore[no-untyped-def]
    return FeedStore(scratch_database)


async def test_only_due_feeds_of_owned_partitions_are_polled_and_the_schedule_is_kept(
    store: FeedStore,
) -> None:
    due, later, elsewhere = (
        feed("a", partition=0, due_in=-5),
        feed("b", partition=0, due_in=3600),
        feed("c", partition=1, due_in=-5),
    )
    for state in (due, later, elsewhere):
        await store.save(state)
    poller = RecordingPoller()
    scheduler = FeedScheduler(store, poller, TIMING, clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    await scheduler.assign([0])
    await scheduler.start()
    try:
        await eventually(
            lambda: _async(poller.polled == [due.id]), timeout=10, what="the due feed to be polled"
        )
        await asyncio.sleep(0.5)
        assert poller.polled == [due.id], "not the later one, not another partition's"
        saved = await store.get(due.id)
        assert saved is not None
        assert saved.last_status == 200
        assert saved.etag == '"e"'
        assert saved.entries_seen == 3
        assert saved.next_fetch_at > datetime.now(UTC) + timedelta(minutes=59), (
            "persisted for the next start"
        )
    finally:
        await scheduler.stop()

    # A restart (a new scheduler on the same store) resumes the schedule: nothing is due.
    restarted_poller = RecordingPoller()
    restarted = FeedScheduler(store, restarted_poller, TIMING, clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    await restarted.assign([0])
    await restarted.start()
    await asyncio.sleep(1)
    await restarted.stop()
    assert restarted_poller.polled == []


async def test_revoked_partitions_are_no_longer_polled(store: FeedStore) -> None:
    soon = feed("d", partition=2, due_in=1.5)
    await store.save(soon)
    poller = RecordingPoller()
    scheduler = FeedScheduler(store, poller, TIMING, clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    await scheduler.assign([2])
    assert scheduler.owned == {soon.id}
    await scheduler.start()
    await scheduler.revoke([2])
    await asyncio.sleep(2.5)
    await scheduler.stop()
    assert poller.polled == []
    assert scheduler.owned == set()


async def test_a_feed_command_handled_during_a_rebalance_leaves_the_partition_whole(
    store: FeedStore,
) -> None:
    """A subscription handled after its partition was revoked (its offset is not committed,
    the new owner handles it again) must not make the next assignment skip loading the
    partition's other feeds; found by the soak test, where it stalled a third of the feeds."""
    registered, late = feed("j", partition=0, due_in=3600), feed("k", partition=0, due_in=3600)
    await store.save(registered)
    scheduler = FeedScheduler(store, RecordingPoller(), TIMING, clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    await scheduler.assign([0, 1, 2])
    await scheduler.revoke([0, 1, 2])
    scheduler.add(late)  # handled while the partitions were being handed out again
    assert scheduler.owned == set()
    await scheduler.assign([0, 2])
    assert scheduler.owned == {registered.id}


async def test_a_feed_whose_poll_was_revoked_before_it_began_is_polled_after_reassignment(
    store: FeedStore,
) -> None:
    """A poll started just before a rebalance and cancelled before its first step never ran
    its own clean-up: the feed stayed marked as being polled, so neither the schedule nor the
    watchdog polled it again. Found by the soak test, where two feeds stalled for good."""
    due = feed("m", partition=1, due_in=-1)
    await store.save(due)
    poller = RecordingPoller()
    scheduler = FeedScheduler(
        store, poller, TIMING, clock=lambda: datetime.now(UTC), watchdog_seconds=0.5
    )  # type: ignore[arg-type]
    await scheduler.assign([1])
    await scheduler.start()
    try:
        await asyncio.sleep(0)  # the scheduling loop starts the poll; the poll has not run yet
        assert due.id in scheduler._tasks
        await scheduler.revoke([1])
        await scheduler.assign([1])
        await eventually(
            lambda: _async(poller.polled == [due.id]), timeout=10, what="the feed to be polled"
        )
    finally:
        await scheduler.stop()


async def test_a_feed_whose_next_time_is_due_when_its_poll_ends_is_polled_again_at_once(
    store: FeedStore,
) -> None:
    """A page retry already due when the poll is recorded: the loop, woken by the new time,
    ran before the finished poll left the table and passed the feed over; only the watchdog
    (30 s in CI) polled it again. Found by a CI run, where such a feed stalled 50 s."""
    now = datetime.now(UTC)
    page = PendingPage(
        link="https://news.example/p.html",
        entry_id="p",
        article_id="a" * 32,
        article_url="https://news.example/p.html",
        basis_version=1,
        next_at=now - timedelta(seconds=1),
    )
    due = feed("r", partition=0, due_in=-1).model_copy(update={"pending_pages": [page]})
    await store.save(due)
    poller = RecordingPoller()
    scheduler = FeedScheduler(
        store, poller, TIMING, clock=lambda: datetime.now(UTC), watchdog_seconds=60
    )  # type: ignore[arg-type]
    await scheduler.assign([0])
    await scheduler.start()
    try:
        await eventually(
            lambda: _async(len(poller.polled) >= 3), timeout=10, what="the feed polled again"
        )
    finally:
        await scheduler.stop()
    assert scheduler.rearmed == 0


async def test_a_failing_feed_backs_off_and_honours_retry_after(store: FeedStore) -> None:
    failing = feed("e", partition=0, due_in=-1)
    await store.save(failing)
    poller = RecordingPoller(failing={failing.id})
    scheduler = FeedScheduler(store, poller, TIMING, clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    await scheduler.assign([0])
    await scheduler.start()
    try:
        await eventually(lambda: _async(bool(poller.polled)), timeout=10, what="a poll")
        saved = await eventually(
            lambda: _failed(store, failing.id), timeout=10, what="the failure to be saved"
        )
    finally:
        await scheduler.stop()
    assert saved.last_error == "HTTP 503 Service Unavailable"
    assert saved.error_count == 1
    assert saved.last_status == 503
    assert saved.next_fetch_at >= datetime.now(UTC) + timedelta(seconds=8990), (
        "Retry-After of 9000 s honoured"
    )


class AbandonedPoller:
    """Publishes (and counts) one article of the feed, then hangs on the next, as a slow page
    would."""

    def __init__(self, store: FeedStore) -> None:
        self.store = store
        self.started = asyncio.Event()

    async def poll(self, state: FeedState) -> PollOutcome:
        await FeedLedger(self.store, state).count(f"{'a' * 32}:1")
        self.started.set()
        await asyncio.Event().wait()
        raise AssertionError("not reached")


async def test_a_poll_abandoned_by_a_rebalance_still_counts_what_it_published(
    store: FeedStore,
) -> None:
    """The next poll will not publish those articles again, so only this one can count them."""
    abandoned = feed("f", partition=1, due_in=-1)
    await store.save(abandoned.model_copy(update={"articles_published": 4}))
    poller = AbandonedPoller(store)
    scheduler = FeedScheduler(store, poller, TIMING, clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    await scheduler.assign([1])
    await scheduler.start()
    try:
        await asyncio.wait_for(poller.started.wait(), timeout=10)
        await asyncio.wait_for(scheduler.revoke([1]), timeout=10)
    finally:
        await scheduler.stop()
    saved = await store.get(abandoned.id)
    assert saved is not None
    assert saved.articles_published == 5
    assert saved.recent_claims == [f"{'a' * 32}:1"]
    assert saved.last_fetch_at is None, "nothing else of the abandoned poll is saved"


class BrokenPoller:
    """A poll that raises (a bug) or never ends."""

    def __init__(self, *, hang: bool = False) -> None:
        self.hang = hang
        self.calls = 0

    async def poll(self, state: FeedState) -> PollOutcome:
        self.calls += 1
        if self.hang:
            await asyncio.Event().wait()
        raise KeyError("a bug in the poll")


@pytest.mark.parametrize(
    ("poller", "error"),
    [
        (BrokenPoller(), "KeyError: 'a bug in the poll'"),
        (BrokenPoller(hang=True), "timed out after 0.5 s"),
    ],
    ids=["bug", "hang"],
)
async def test_a_poll_that_crashes_or_hangs_is_recorded_and_the_feed_scheduled_again(
    store: FeedStore, poller: BrokenPoller, error: str
) -> None:
    broken = feed("g", partition=0, due_in=-1)
    await store.save(broken)
    scheduler = FeedScheduler(
        store,
        poller,
        TIMING,
        clock=lambda: datetime.now(UTC),
        poll_timeout_seconds=0.5,  # type: ignore[arg-type]
    )
    await scheduler.assign([0])
    await scheduler.start()
    try:
        saved = await eventually(
            lambda: _failed(store, broken.id), timeout=10, what="the failure to be saved"
        )
    finally:
        await scheduler.stop()
    assert saved.last_error == error
    assert saved.last_error_step == "poll"
    assert saved.next_fetch_at > datetime.now(UTC) + timedelta(minutes=59), "backed off, not lost"
    assert broken.id in scheduler.owned


class FailingRecords(FeedStore):
    """The real store, whose poll records fail the first ``failures`` times (store down)."""

    def __init__(self, database, failures: int) -> None:  # type: ignore[no-untyped-def]
        super().__init__(database)
        self.failures = failures

    async def record_poll(self, before: FeedState, after: FeedState) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("connection refused")
        await super().record_poll(before, after)


async def test_a_poll_whose_record_fails_is_visited_again_and_recorded(scratch_database) -> None:  # type: ignore[no-untyped-def]
    store = FailingRecords(scratch_database, failures=1)
    due = feed("h", partition=0, due_in=-1)
    await store.save(due)
    poller = RecordingPoller()
    quick = PollTiming(
        default_seconds=3600, min_seconds=1, max_seconds=7200, max_backoff_seconds=2, jitter_ratio=0
    )
    scheduler = FeedScheduler(store, poller, quick, clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    await scheduler.assign([0])
    await scheduler.start()
    try:
        saved = await eventually(
            lambda: _recorded(store, due.id), timeout=15, what="the second visit to be recorded"
        )
    finally:
        await scheduler.stop()
    assert poller.polled == [due.id, due.id]
    assert saved.next_fetch_at > datetime.now(UTC)


async def test_the_watchdog_rearms_an_owned_feed_that_fell_out_of_the_schedule(
    store: FeedStore,
) -> None:
    lost = feed("i", partition=0, due_in=0.2)
    await store.save(lost)
    poller = RecordingPoller()
    scheduler = FeedScheduler(
        store,
        poller,
        TIMING,
        clock=lambda: datetime.now(UTC),
        watchdog_seconds=0.5,  # type: ignore[arg-type]
    )
    await scheduler.assign([0])
    scheduler._heap.clear()  # as a bug in the bookkeeping would lose it
    await scheduler.start()
    try:
        await eventually(
            lambda: _async(poller.polled == [lost.id]), timeout=10, what="the watchdog to re-arm it"
        )
    finally:
        await scheduler.stop()
    assert scheduler.rearmed == 1


async def _recorded(store: FeedStore, feed_id: str) -> FeedState | None:
    state = await store.get(feed_id)
    return state if state is not None and state.last_fetch_at is not None else None


async def _failed(store: FeedStore, feed_id: str) -> FeedState | None:
    state = await store.get(feed_id)
    return state if state is not None and state.error_count else None


async def _async(value: bool) -> bool:
    return value
