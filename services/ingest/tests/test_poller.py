"""Feed visits against a real HTTP server and the real store: what they publish, what they
remember and count, what a page that cannot be had becomes, and what a failure or an
abandoned poll leaves for the next visit.

The publisher is a recording stand-in (the Kafka side of publishing is tested end to end in
tests/test_feeds.py and tests/test_feed_soak.py); article versions, entries and feed states
are in the real store.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from newswire_contracts import ArticleIngested, article_id, canonicalize_url, feed_id
from newswire_ingest.adapters.article_store import ArticleVersions
from newswire_ingest.adapters.entry_store import EntryStore
from newswire_ingest.adapters.feed_store import FeedStore
from newswire_ingest.adapters.fetching import Fetcher
from newswire_ingest.adapters.publishing import ArticleSink
from newswire_ingest.config import IngestSettings
from newswire_ingest.domain.feed_state import FeedState, PollOutcome, polled_state
from newswire_ingest.domain.page_retries import PageRetryTiming
from newswire_ingest.domain.schedule import PollTiming
from newswire_ingest.main import fetch_options
from newswire_ingest.poller import FeedPoller
from newswire_platform import StoreUnavailable
from pymongo import AsyncMongoClient

from tests import httpserver
from tests.feed_samples import LONG_TEXT, NINE_NEWS, rss, serve

pytestmark = pytest.mark.integration

PAGES = PageRetryTiming(first_seconds=0.2, max_seconds=1.0, attempts=3, jitter_ratio=0)
TIMING = PollTiming(
    default_seconds=600, min_seconds=60, max_seconds=3600, max_backoff_seconds=3600, jitter_ratio=0
)
PAYWALL = b"<html><body><div>Subscribe to continue reading.</div></body></html>"


class RecordingPublisher:
    """Stands in for Kafka: records what was published; ``gate`` holds publishing back."""

    def __init__(self) -> None:
        self.published: list[ArticleIngested] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.waiting = asyncio.Event()

    async def publish(self, event: ArticleIngested, **_: Any) -> None:
        self.waiting.set()
        await self.gate.wait()
        self.published.append(event)


@pytest.fixture(scope="module")
def server() -> Iterator[httpserver.TestServer]:
    with httpserver.TestServer() as running:
        yield running


@pytest.fixture
async def fetcher(server: httpserver.TestServer) -> AsyncIterator[Fetcher]:
    settings = IngestSettings(
        fetch_allow_hosts=[server.host],
        fetch_connect_timeout_seconds=2.0,
        fetch_timeout_seconds=5.0,
    )
    async with Fetcher(fetch_options(settings)) as running:
        yield running


def serve_page(
    server: httpserver.TestServer, path: str, statuses: list[int], body: bytes = NINE_NEWS
) -> None:
    """Answer with each status in turn (the last one from then on); 200 serves ``body``."""

    def handler(request: httpserver.Handler) -> None:
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        if status == 200:
            request.reply(200, body, {"Content-Type": "text/html; charset=utf-8"})
        else:
            request.reply(status, b"unavailable", {"Content-Type": "text/plain"})

    server.route(path)(handler)


class Ingest:
    """One ingest instance's poller over the test's database, with its own store client."""

    def __init__(self, database: Any, fetcher: Fetcher, publisher: RecordingPublisher) -> None:
        now = lambda: datetime.now(UTC)  # noqa: E731
        self.feeds = FeedStore(database)
        self.entries = EntryStore(database)
        self.versions = ArticleVersions(database)
        self.publisher = publisher
        self.poller = FeedPoller(
            fetcher,
            ArticleSink(publisher, self.versions, now),  # type: ignore[arg-type]
            self.entries,
            self.feeds,
            max_entries=50,
            full_text_min_chars=500,
            page_timing=PAGES,
            clock=now,
        )

    async def subscribe(self, server: httpserver.TestServer, path: str) -> FeedState:
        now = datetime.now(UTC)
        state = FeedState(
            id=feed_id(canonicalize_url(server.url(path))),
            url=server.url(path),
            partition=0,
            subscribed_at=now,
            next_fetch_at=now,
            interval_seconds=60,
        )
        await self.feeds.save(state)
        return state

    async def visit(self, state: FeedState, *, due: bool = True) -> tuple[PollOutcome, FeedState]:
        """One visit as the scheduler makes it: the outcome, and the state it saves."""
        current = await self.feeds.get(state.id)
        assert current is not None
        if due:
            current = current.model_copy(update={"next_fetch_at": datetime.now(UTC)})
        else:
            current = current.model_copy(
                update={"next_fetch_at": datetime.now(UTC) + timedelta(hours=1)}
            )
        outcome = await self.poller.poll(current)
        after = polled_state(
            current, outcome, timing=TIMING, now=datetime.now(UTC), rng=random.Random(0)
        )
        await self.feeds.record_poll(current, after)
        saved = await self.feeds.get(state.id)
        assert saved is not None
        return outcome, saved


@pytest.fixture
def ingest(scratch_database, fetcher: Fetcher) -> Ingest:  # type: ignore[no-untyped-def]
    return Ingest(scratch_database, fetcher, RecordingPublisher())


def url_id(url: str) -> str:
    return article_id(canonicalize_url(url))


async def test_an_entry_whose_page_fails_for_now_is_published_at_once_and_upgraded_later(
    server: httpserver.TestServer, ingest: Ingest, namespace
) -> None:  # type: ignore[no-untyped-def]
    base = f"/{namespace.name}/transient"
    full, bare = server.url(f"{base}/full.html"), server.url(f"{base}/bare.html")
    serve_page(server, f"{base}/bare.html", [503, 200])
    serve(
        server,
        f"{base}/feed.xml",
        rss(
            [
                {"title": "Full", "link": full, "content": LONG_TEXT},
                {"title": "Bare", "link": bare, "summary": "Documents were released."},
            ]
        ),
        "application/rss+xml",
        etag='"v1"',
    )
    state = await ingest.subscribe(server, f"{base}/feed.xml")

    first, saved = await ingest.visit(state)
    assert first.ok
    assert first.published == 2, "the summary is published at once"
    assert "HTTP 503" in (first.last_entry_error or "")
    summary = next(a for a in ingest.publisher.published if a.url == canonicalize_url(bare))
    assert (summary.text, summary.text_source, summary.summary_only) == (
        "Documents were released.", "feed", True,
    )  # fmt: skip
    assert saved.etag == '"v1"', "validators kept: the page is retried on its own"
    assert saved.pages_pending == 1
    assert saved.articles_published == 2

    await asyncio.sleep(PAGES.first_seconds)
    second, saved = await ingest.visit(state, due=False)
    assert not second.fetched, "the feed was not due: only its page was fetched"
    upgraded = ingest.publisher.published[-1]
    assert (upgraded.id, upgraded.version) == (summary.id, 2)
    assert (upgraded.text_source, upgraded.summary_only) == ("page", False)
    assert upgraded.title == "Bare", "what the entry said is kept"
    assert saved.pages_pending == 0
    assert saved.articles_published == 3
    assert len(server.requests_to(f"{base}/feed.xml")) == 1
    assert len(server.requests_to(f"{base}/bare.html")) == 2
    assert server.requests_to(f"{base}/full.html") == []

    third, _ = await ingest.visit(state)
    assert third.not_modified
    assert len(ingest.publisher.published) == 3


@pytest.mark.parametrize(
    ("statuses", "body", "reason"),
    [
        ([404], NINE_NEWS, "HTTP 404"),
        ([410], NINE_NEWS, "HTTP 410"),
        ([200], PAYWALL, "no article"),
    ],
    ids=["not-found", "gone", "paywalled"],
)
async def test_a_page_that_cannot_be_had_for_good_leaves_the_feeds_text_and_no_retry(
    server: httpserver.TestServer,
    ingest: Ingest,
    namespace,  # type: ignore[no-untyped-def]
    statuses: list[int],
    body: bytes,
    reason: str,
) -> None:
    base = f"/{namespace.name}/for-good-{statuses[0]}-{len(body)}"
    serve_page(server, f"{base}/page.html", list(statuses), body)
    serve(
        server,
        f"{base}/feed.xml",
        rss([{"title": "Gone", "link": server.url(f"{base}/page.html"), "summary": "A summary."}]),
        "application/rss+xml",
        etag='"v2"',
    )
    state = await ingest.subscribe(server, f"{base}/feed.xml")
    outcome, saved = await ingest.visit(state)
    assert outcome.ok
    assert outcome.published == 1
    assert reason in (outcome.last_entry_error or "")
    assert [(a.summary_only, a.text) for a in ingest.publisher.published] == [(True, "A summary.")]
    assert saved.pages_pending == 0, "not retried"
    assert saved.etag == '"v2"'


async def test_a_page_is_given_up_after_its_attempts(
    server: httpserver.TestServer, ingest: Ingest, namespace
) -> None:  # type: ignore[no-untyped-def]
    base = f"/{namespace.name}/attempts"
    serve_page(server, f"{base}/page.html", [503])
    serve(
        server,
        f"{base}/feed.xml",
        rss([{"title": "Down", "link": server.url(f"{base}/page.html"), "summary": "Sum."}]),
        "application/rss+xml",
        etag='"v3"',
    )
    state = await ingest.subscribe(server, f"{base}/feed.xml")
    _, saved = await ingest.visit(state)
    for _ in range(PAGES.attempts):
        if not saved.pending_pages:
            break
        await asyncio.sleep(
            max(0.0, (saved.pending_pages[0].next_at - datetime.now(UTC)).total_seconds())
        )
        _, saved = await ingest.visit(state, due=False)
    assert saved.pages_pending == 0
    assert len(server.requests_to(f"{base}/page.html")) == PAGES.attempts
    assert [a.summary_only for a in ingest.publisher.published] == [True]


async def test_two_feeds_sharing_entries_polled_at_once_by_two_instances_publish_each_once(
    server: httpserver.TestServer, fetcher: Fetcher, scratch_database, infrastructure, namespace
) -> None:  # type: ignore[no-untyped-def]
    """The issue's case: an RSS and an Atom feed of one blog with the same entries, polled at
    the same moment by two instances. One article each, one version, one publication; the
    counts of the two feeds add up to the publications."""
    base = f"/{namespace.name}/shared"
    links = [server.url(f"{base}/story-{n}.html") for n in range(6)]
    for n in range(6):
        serve_page(server, f"{base}/story-{n}.html", [200])
    # One feed with the full text of half of the stories, the other with summaries only.
    serve(
        server,
        f"{base}/front.xml",
        rss(
            [
                {
                    "title": f"Story {n}",
                    "link": link,
                    **({"content": LONG_TEXT} if n % 2 else {"summary": "Short."}),
                }
                for n, link in enumerate(links)
            ]
        ),
        "application/rss+xml",
    )
    serve(
        server,
        f"{base}/world.xml",
        rss(
            [
                {"title": f"Story {n}", "link": link, "summary": "Short."}
                for n, link in enumerate(links)
            ]
        ),
        "application/rss+xml",
    )
    publisher = RecordingPublisher()
    other = AsyncMongoClient(infrastructure.mongodb_url, tz_aware=True)
    try:
        first = Ingest(scratch_database, fetcher, publisher)
        second = Ingest(other[scratch_database.name], fetcher, publisher)
        front = await first.subscribe(server, f"{base}/front.xml")
        world = await second.subscribe(server, f"{base}/world.xml")
        (a, front_saved), (b, world_saved) = await asyncio.gather(
            first.visit(front), second.visit(world)
        )
        assert a.ok, a.error
        assert b.ok, b.error
        published = [(e.id, e.version) for e in publisher.published]
        assert len(published) == len(set(published)), "no version published twice"
        assert {e.id for e in publisher.published} == {url_id(link) for link in links}
        assert front_saved.articles_published + world_saved.articles_published == len(published)
        assert all(len(server.requests_to(f"{base}/story-{n}.html")) <= 2 for n in range(6))
        # Polled again: nothing new, nothing counted twice.
        await asyncio.gather(first.visit(front), second.visit(world))
    finally:
        await other.close()
    assert len(publisher.published) == len(published)


async def test_an_edit_seen_by_two_feeds_is_one_new_version(
    server: httpserver.TestServer, ingest: Ingest, namespace
) -> None:  # type: ignore[no-untyped-def]
    base = f"/{namespace.name}/edit"
    link = server.url(f"{base}/story.html")
    serve_page(server, f"{base}/story.html", [200])
    entries = {"front": "Story", "world": "Story"}

    def feed(name: str, content: bool) -> None:
        def handler(request: httpserver.Handler) -> None:
            item = {"title": entries[name], "link": link}
            item |= {"content": LONG_TEXT + entries[name]} if content else {"summary": "Short."}
            request.reply(200, rss([item]), {"Content-Type": "application/rss+xml"})

        server.route(f"{base}/{name}.xml")(handler)

    feed("front", content=True)
    feed("world", content=False)
    front = await ingest.subscribe(server, f"{base}/front.xml")
    world = await ingest.subscribe(server, f"{base}/world.xml")
    await ingest.visit(front)
    await ingest.visit(world)
    assert [e.version for e in ingest.publisher.published] == [1]

    entries.update(front="Story (updated)", world="Story (updated)")
    await ingest.visit(front)
    await ingest.visit(world)
    assert [(e.version, e.title) for e in ingest.publisher.published] == [
        (1, "Story"), (2, "Story (updated)"),
    ]  # fmt: skip


class CrashingEntries(EntryStore):
    """The entry store failing (the store went down) after the article was published."""

    fail = True

    async def remember(self, *args: Any, **kwargs: Any) -> None:
        if self.fail:
            raise StoreUnavailable("connection reset")
        await super().remember(*args, **kwargs)


async def test_a_poll_failing_after_publishing_is_recorded_and_the_next_counts_it_once(
    server: httpserver.TestServer, ingest: Ingest, scratch_database, namespace
) -> None:  # type: ignore[no-untyped-def]
    base = f"/{namespace.name}/crash"
    serve(
        server,
        f"{base}/feed.xml",
        rss([{"title": "One", "link": server.url(f"{base}/one.html"), "content": LONG_TEXT}]),
        "application/rss+xml",
        etag='"v5"',
    )
    crashing = CrashingEntries(scratch_database)
    ingest.entries = crashing
    ingest.poller._entries = crashing
    state = await ingest.subscribe(server, f"{base}/feed.xml")
    outcome, saved = await ingest.visit(state)
    assert not outcome.ok
    assert saved.last_error_step == "entries"
    assert "StoreUnavailable: connection reset" in (saved.last_error or "")
    assert saved.next_fetch_at > datetime.now(UTC), "backed off, never left in the past"
    assert saved.etag is None, "the entries are read again"
    assert saved.articles_published == 1, "counted when published"

    crashing.fail = False
    again, saved = await ingest.visit(state)
    assert again.ok
    assert len(ingest.publisher.published) == 1, "not published again"
    assert saved.articles_published == 1, "not counted again"
    assert saved.last_error is None


async def test_an_abandoned_poll_finishes_the_entry_it_was_publishing_and_counts_it(
    server: httpserver.TestServer, ingest: Ingest, namespace
) -> None:  # type: ignore[no-untyped-def]
    base = f"/{namespace.name}/abandoned"
    link = server.url(f"{base}/one.html")
    serve(
        server,
        f"{base}/feed.xml",
        rss([{"title": "One", "link": link, "content": LONG_TEXT}]),
        "application/rss+xml",
        etag='"v3"',
    )
    ingest.publisher.gate.clear()
    state = await ingest.subscribe(server, f"{base}/feed.xml")

    poll = asyncio.create_task(ingest.poller.poll(state))
    await asyncio.wait_for(ingest.publisher.waiting.wait(), timeout=10)
    poll.cancel()  # as a rebalance abandons it
    await asyncio.sleep(0.2)
    assert not poll.done(), "the entry being published is finished first"
    ingest.publisher.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(poll, timeout=10)

    assert len(ingest.publisher.published) == 1
    saved = await ingest.feeds.get(state.id)
    assert saved is not None
    assert saved.articles_published == 1, "counted as it was published"
    again = await ingest.poller.poll(state)
    assert again.published == 0
    assert len(ingest.publisher.published) == 1


async def test_an_abandoned_poll_waits_for_every_entry_being_published(
    server: httpserver.TestServer, ingest: Ingest, namespace
) -> None:  # type: ignore[no-untyped-def]
    """One entry is being published while another waits for its page: cancelling the poll
    ends the page fetch at once, but the poll ends only after the publication, counted."""
    base = f"/{namespace.name}/two"
    published_link, page_link = server.url(f"{base}/one.html"), server.url(f"{base}/slow.html")

    def slow_page(request: httpserver.Handler) -> None:
        time.sleep(3)
        request.reply(200, NINE_NEWS, {"Content-Type": "text/html; charset=utf-8"})

    server.route(f"{base}/slow.html")(slow_page)
    serve(
        server,
        f"{base}/feed.xml",
        rss(
            [
                {"title": "One", "link": published_link, "content": LONG_TEXT},
                {"title": "Slow", "link": page_link},
            ]
        ),
        "application/rss+xml",
        etag='"v4"',
    )
    ingest.publisher.gate.clear()
    state = await ingest.subscribe(server, f"{base}/feed.xml")
    poll = asyncio.create_task(ingest.poller.poll(state))
    await asyncio.wait_for(ingest.publisher.waiting.wait(), timeout=10)
    await asyncio.sleep(0.2)  # the other entry is on its page by now
    poll.cancel()
    await asyncio.sleep(0.2)
    assert not poll.done(), "the poll waits for the entry being published"
    ingest.publisher.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(poll, timeout=10)
    assert [a.url for a in ingest.publisher.published] == [canonicalize_url(published_link)]
    assert await ingest.entries.get(state.id, url_id(page_link)) is None, (
        "the entry cut short is left for the next poll"
    )


async def test_a_page_to_retry_is_saved_before_its_entry_is_remembered(
    server: httpserver.TestServer, ingest: Ingest, scratch_database, namespace
) -> None:  # type: ignore[no-untyped-def]
    """An instance killed between the two would otherwise leave a published summary whose
    page nobody tries again (the entry is remembered, the poll's record never written)."""
    base = f"/{namespace.name}/saved-first"
    serve_page(server, f"{base}/page.html", [503])
    serve(
        server,
        f"{base}/feed.xml",
        rss([{"title": "Busy", "link": server.url(f"{base}/page.html"), "summary": "Sum."}]),
        "application/rss+xml",
    )
    crashing = CrashingEntries(scratch_database)
    ingest.poller._entries = crashing
    state = await ingest.subscribe(server, f"{base}/feed.xml")
    outcome = await ingest.poller.poll(state)  # ... and the instance dies before recording it
    assert not outcome.ok
    saved = await ingest.feeds.get(state.id)
    assert saved is not None
    assert [p.link for p in saved.pending_pages] == [server.url(f"{base}/page.html")]
    assert saved.pages_pending == 1
