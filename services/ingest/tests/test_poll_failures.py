"""No failure inside a poll stops its feed: a failure injected at every step of a visit (the
store, the broker, the parser, a bug) is recorded on the feed's status with the step, the feed
is scheduled again with backoff, and the next visit publishes and counts everything once.

The scheduler and poller are the real ones; the adapters are in-memory fakes with the same
contracts (a claim is an insert that succeeds once), so that any of their calls can be made
to fail. The same failures against the real store are in test_poller.py and test_scheduler.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from newswire_contracts import ArticleIngested
from newswire_ingest import poller as poller_module
from newswire_ingest.adapters.entry_store import EntryMemory
from newswire_ingest.adapters.fetching import Fetched, FetchError
from newswire_ingest.adapters.publishing import ArticleSink
from newswire_ingest.domain.feed_state import FeedState
from newswire_ingest.domain.page_retries import PageRetryTiming
from newswire_ingest.domain.schedule import PollTiming
from newswire_ingest.domain.versions import VersionRecord
from newswire_ingest.poller import FeedPoller
from newswire_ingest.scheduler import FeedScheduler
from newswire_platform import StoreUnavailable

from tests.feed_samples import LONG_TEXT, NINE_NEWS, rss

pytestmark = pytest.mark.service

FEED_URL = "https://news.example/feed.xml"
LINKS = [f"https://news.example/story-{n}" for n in range(3)]
TIMING = PollTiming(
    default_seconds=60, min_seconds=60, max_seconds=60, max_backoff_seconds=600, jitter_ratio=0
)


class Faults:
    """Which call fails next: ``arm("publish")`` makes the next publish raise."""

    def __init__(self) -> None:
        self.armed: dict[str, BaseException] = {}
        self.hit: list[str] = []

    def arm(self, step: str, error: BaseException) -> None:
        self.armed[step] = error

    def check(self, step: str) -> None:
        if step in self.armed:
            self.hit.append(step)
            raise self.armed.pop(step)


class FakeFetcher:
    """The feed (two entries with a summary, one with its full text) and its pages."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.requests: Counter[str] = Counter()

    async def get(self, url: str, **_: Any) -> Fetched:
        self.requests[url] += 1
        if url == FEED_URL:
            self.faults.check("fetch")
            items = [
                {"title": f"Story {n}", "link": link, "summary": "A summary."}
                if n < 2
                else {"title": f"Story {n}", "link": link, "content": LONG_TEXT}
                for n, link in enumerate(LINKS)
            ]
            return _fetched(url, rss(items), "application/rss+xml")
        self.faults.check("page")
        return _fetched(url, NINE_NEWS, "text/html; charset=utf-8")


def _fetched(url: str, body: bytes, content_type: str) -> Fetched:
    return Fetched(url, 200, httpx.Headers({"content-type": content_type}), body, 0.0)


class FakeFeeds:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.states: dict[str, FeedState] = {}

    async def get(self, feed_id: str) -> FeedState | None:
        self.faults.check("read feed")
        return self.states.get(feed_id)

    async def all(self) -> list[FeedState]:
        return list(self.states.values())

    async def record_poll(self, before: FeedState, after: FeedState) -> None:
        self.faults.check("record")
        current = self.states[after.id]
        self.states[after.id] = after.model_copy(
            update={
                "articles_published": current.articles_published,
                "recent_claims": current.recent_claims,
                "entries_seen": current.entries_seen + after.entries_seen - before.entries_seen,
            }
        )

    async def save_pending_pages(self, feed_id: str, pending_pages: list[Any]) -> None:
        self.faults.check("save pages")
        self.states[feed_id] = self.states[feed_id].model_copy(
            update={"pending_pages": pending_pages}
        )

    async def count_published(self, feed_id: str, recent_claims: list[str]) -> None:
        self.faults.check("count")
        state = self.states[feed_id]
        self.states[feed_id] = state.model_copy(
            update={
                "articles_published": state.articles_published + 1,
                "recent_claims": recent_claims,
            }
        )


class FakeEntries:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.memory: dict[tuple[str, str], EntryMemory] = {}

    async def get(self, feed_id: str, entry_id: str) -> EntryMemory | None:
        self.faults.check("read entry")
        return self.memory.get((feed_id, entry_id))

    async def remember(self, feed_id: str, entry_id: str, memory: EntryMemory, **_: Any) -> None:
        self.faults.check("remember")
        self.memory[(feed_id, entry_id)] = memory

    async def known_version(self, feed_id: str, entry_id: str, version: int) -> None:
        memory = self.memory[(feed_id, entry_id)]
        self.memory[(feed_id, entry_id)] = replace(memory, version=max(version, memory.version))


class FakeVersions:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.claims: dict[str, tuple[VersionRecord, ArticleIngested]] = {}

    async def latest(self, article_id: str, **_: Any) -> VersionRecord | None:
        self.faults.check("read versions")
        mine = [r for r, _ in self.claims.values() if r.article_id == article_id]
        return max(mine, key=lambda r: r.version, default=None)

    async def claim(self, record: VersionRecord, article: ArticleIngested) -> bool:
        self.faults.check("claim")
        if record.claim_id in self.claims:
            return False
        self.claims[record.claim_id] = (record, article)
        return True

    async def claimed_event(self, record: VersionRecord) -> ArticleIngested | None:
        return self.claims[record.claim_id][1]

    async def mark_published(self, record: VersionRecord, **_: Any) -> None:
        self.faults.check("mark published")
        claimed, article = self.claims[record.claim_id]
        self.claims[record.claim_id] = (replace(claimed, published=True), article)

    async def release(self, record: VersionRecord) -> None:
        claimed, _ = self.claims[record.claim_id]
        if not claimed.published:
            del self.claims[record.claim_id]


class FakePublisher:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.events: list[tuple[str, int, str]] = []

    async def publish(self, event: ArticleIngested, *, event_id: str | None = None) -> None:
        self.faults.check("publish")
        self.events.append((event.id, event.version, event_id or ""))


class World:
    """One ingest instance over fakes, and a clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 12, tzinfo=UTC)
        self.faults = Faults()
        self.fetcher = FakeFetcher(self.faults)
        self.feeds = FakeFeeds(self.faults)
        self.entries = FakeEntries(self.faults)
        self.versions = FakeVersions(self.faults)
        self.publisher = FakePublisher(self.faults)
        sink = ArticleSink(
            self.publisher, self.versions, self.clock, lease_seconds=30, wait_seconds=0
        )  # type: ignore[arg-type]
        self.poller = FeedPoller(
            self.fetcher,  # type: ignore[arg-type]
            sink,
            self.entries,  # type: ignore[arg-type]
            self.feeds,  # type: ignore[arg-type]
            max_entries=50,
            full_text_min_chars=500,
            page_timing=PageRetryTiming(first_seconds=30, max_seconds=60, attempts=3),
            clock=self.clock,
        )
        self.scheduler = FeedScheduler(self.feeds, self.poller, TIMING, clock=self.clock)  # type: ignore[arg-type]
        self.state = FeedState(
            id="f" * 32,
            url=FEED_URL,
            partition=0,
            subscribed_at=self.now,
            next_fetch_at=self.now,
            interval_seconds=60,
        )
        self.feeds.states[self.state.id] = self.state

    def clock(self) -> datetime:
        return self.now

    async def visit(self) -> FeedState:
        """The scheduler's visit of the feed (as its loop would start it when due)."""
        await self.scheduler.assign([0])
        self.scheduler.add(self.feeds.states[self.state.id])
        await self.scheduler._poll(self.state.id)
        return self.feeds.states[self.state.id]

    async def later(self, seconds: float) -> FeedState:
        self.now += timedelta(seconds=seconds)
        return await self.visit()


STEPS = [
    ("fetch", FetchError("HTTP 503 Service Unavailable", status=503), "fetch"),
    ("fetch", RuntimeError("a bug in the fetcher"), "fetch"),
    ("parse", RuntimeError("a bug in the parser"), "parse"),
    ("read entry", StoreUnavailable("store down"), "entries"),
    ("read versions", StoreUnavailable("store down"), "entries"),
    ("claim", StoreUnavailable("store down"), "entries"),
    ("publish", ConnectionError("broker down"), "entries"),
    ("mark published", StoreUnavailable("store down"), "entries"),
    ("count", StoreUnavailable("store down"), "entries"),
    ("remember", StoreUnavailable("store down"), "entries"),
    ("record", StoreUnavailable("store down"), None),
    ("read feed", StoreUnavailable("store down"), None),
]


@pytest.mark.parametrize(
    ("step", "error", "recorded_step"), STEPS, ids=[f"{s}-{type(e).__name__}" for s, e, _ in STEPS]
)
async def test_a_failure_at_any_step_is_recorded_backed_off_and_recovered_from(
    step: str, error: BaseException, recorded_step: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World()
    if step == "parse":

        def broken_parser(*_: Any, **__: Any) -> Any:
            world.faults.check("parse")
            raise AssertionError("not reached")

        world.faults.arm("parse", error)
        monkeypatch.setattr(poller_module, "parse_feed", broken_parser)
    else:
        world.faults.arm(step, error)

    failed = await world.visit()
    assert world.faults.hit == [step]
    if recorded_step is not None:
        assert failed.last_error_step == recorded_step
        assert type(error).__name__ in (failed.last_error or "") or str(error) in (
            failed.last_error or ""
        )
        assert failed.error_count == 1
        assert failed.next_fetch_at > world.now, "backed off, never left in the past"
    assert world.scheduler._due[world.state.id] > world.now, "scheduled again"

    if step == "parse":
        monkeypatch.undo()
    recovered = await world.later(600)
    assert recovered.last_error is None, recovered.last_error
    assert recovered.next_fetch_at > world.now
    if step in ("publish", "mark published", "count", "remember"):
        # The claim of a publication that failed midway is released, or taken over.
        recovered = await world.later(600)
    versions = Counter((article, version) for article, version, _ in world.publisher.events)
    assert set(versions) == {(a, 1) for a, _ in versions}, "one version each"
    assert len(versions) == 3, "every entry published"
    event_ids = {
        (a, v): {e for x, y, e in world.publisher.events if (x, y) == (a, v)} for a, v in versions
    }
    assert all(len(ids) == 1 for ids in event_ids.values()), "a repeat has the same event id"
    assert recovered.articles_published == 3, "each counted once"


async def test_a_bug_in_one_entry_does_not_keep_the_others_from_being_published() -> None:
    world = World()
    world.faults.arm("read entry", KeyError("one entry's bug"))
    failed = await world.visit()
    assert failed.last_error_step == "entries"
    assert "1 of 3 entries failed" in (failed.last_error or "")
    assert len(world.publisher.events) == 2
    assert failed.articles_published == 2
