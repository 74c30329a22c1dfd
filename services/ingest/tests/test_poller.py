"""One feed poll against a real HTTP server and the real store: what it publishes, what it
remembers, and what a failure or an abandoned poll leaves for the next one.

The publisher is a recording stand-in (the Kafka side of publishing is tested end to end in
tests/test_feeds.py); the article versions and feed entries are in the real store.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from newswire_contracts import ArticleIngested, article_id, canonicalize_url, feed_id
from newswire_ingest.adapters.fetching import Fetcher
from newswire_ingest.adapters.publishing import ArticleSink
from newswire_ingest.adapters.store import ArticleVersions
from newswire_ingest.config import IngestSettings
from newswire_ingest.domain.feed_state import FeedState
from newswire_ingest.main import fetch_options
from newswire_ingest.poller import FeedPoller, PollProgress

from tests import httpserver
from tests.feed_samples import LONG_TEXT, NINE_NEWS, rss, serve

pytestmark = pytest.mark.integration


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
def versions(scratch_database) -> ArticleVersions:  # type: ignore[no-untyped-def]
    return ArticleVersions(scratch_database)


@pytest.fixture
async def fetcher(server: httpserver.TestServer) -> AsyncIterator[Fetcher]:
    settings = IngestSettings(
        fetch_allow_hosts=[server.host],
        fetch_connect_timeout_seconds=2.0,
        fetch_timeout_seconds=5.0,
    )
    async with Fetcher(fetch_options(settings)) as running:
        yield running


def serve_page(server: httpserver.TestServer, path: str, statuses: list[int]) -> None:
    """Answer with each status in turn (the last one from then on); 200 serves the page."""

    def handler(request: httpserver.Handler) -> None:
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        if status == 200:
            request.reply(200, NINE_NEWS, {"Content-Type": "text/html; charset=utf-8"})
        else:
            request.reply(status, b"unavailable", {"Content-Type": "text/plain"})

    server.route(path)(handler)


def state_for(server: httpserver.TestServer, path: str) -> FeedState:
    now = datetime.now(UTC)
    return FeedState(
        id=feed_id(canonicalize_url(server.url(path))),
        url=server.url(path),
        partition=0,
        subscribed_at=now,
        next_fetch_at=now,
        interval_seconds=60,
    )


def poller_for(
    fetcher: Fetcher, versions: ArticleVersions, publisher: RecordingPublisher
) -> FeedPoller:
    now = lambda: datetime.now(UTC)  # noqa: E731
    return FeedPoller(
        fetcher,
        ArticleSink(publisher, versions, now),  # type: ignore[arg-type]
        versions,
        max_entries=50,
        full_text_min_chars=500,
        clock=now,
    )


async def test_an_entry_whose_page_failed_for_now_is_fetched_again_on_the_next_poll(
    server: httpserver.TestServer, fetcher: Fetcher, versions: ArticleVersions, namespace
) -> None:  # type: ignore[no-untyped-def]
    base = f"/{namespace.name}/transient"
    full, bare = server.url(f"{base}/full.html"), server.url(f"{base}/bare.html")
    serve_page(server, f"{base}/bare.html", [503, 200])
    serve(
        server,
        f"{base}/feed.xml",
        rss(
            [{"title": "Full", "link": full, "content": LONG_TEXT}, {"title": "Bare", "link": bare}]
        ),
        "application/rss+xml",
        etag='"v1"',
    )
    publisher = RecordingPublisher()
    poller = poller_for(fetcher, versions, publisher)
    state = state_for(server, f"{base}/feed.xml")

    first = await poller.poll(state)
    assert first.ok
    assert first.published == 1
    assert first.entry_errors == 1
    assert "HTTP 503" in (first.last_entry_error or "")
    assert first.etag is None, "no validators kept: the next poll must read the entries again"

    second = await poller.poll(state.model_copy(update={"etag": first.etag}))
    assert second.ok
    assert second.published == 1
    assert second.entry_errors == 0
    assert second.etag == '"v1"'
    assert [a.url for a in publisher.published] == [canonicalize_url(full), canonicalize_url(bare)]
    assert len(server.requests_to(f"{base}/bare.html")) == 2
    assert server.requests_to(f"{base}/full.html") == []

    third = await poller.poll(state.model_copy(update={"etag": second.etag}))
    assert third.not_modified
    assert third.published == 0


async def test_an_entry_whose_page_is_gone_does_not_cost_the_feed_its_validators(
    server: httpserver.TestServer, fetcher: Fetcher, versions: ArticleVersions, namespace
) -> None:  # type: ignore[no-untyped-def]
    base = f"/{namespace.name}/gone"
    serve_page(server, f"{base}/gone.html", [404])
    serve(
        server,
        f"{base}/feed.xml",
        rss([{"title": "Gone", "link": server.url(f"{base}/gone.html")}]),
        "application/rss+xml",
        etag='"v2"',
    )
    outcome = await poller_for(fetcher, versions, RecordingPublisher()).poll(
        state_for(server, f"{base}/feed.xml")
    )
    assert outcome.ok
    assert outcome.entry_errors == 1
    assert outcome.published == 0
    assert "HTTP 404" in (outcome.last_entry_error or "")
    assert outcome.etag == '"v2"', "a page that will not come back is not retried every poll"


async def test_an_abandoned_poll_finishes_the_entry_it_was_publishing_and_counts_it(
    server: httpserver.TestServer, fetcher: Fetcher, versions: ArticleVersions, namespace
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
    publisher = RecordingPublisher()
    publisher.gate.clear()
    poller = poller_for(fetcher, versions, publisher)
    state = state_for(server, f"{base}/feed.xml")
    progress = PollProgress()

    poll = asyncio.create_task(poller.poll(state, progress))
    await asyncio.wait_for(publisher.waiting.wait(), timeout=10)
    poll.cancel()  # as a rebalance abandons it
    await asyncio.sleep(0.2)
    assert not poll.done(), "the entry being published is finished first"
    publisher.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(poll, timeout=10)

    assert len(publisher.published) == 1
    assert progress.published == 1, "counted, for the scheduler to keep"
    entry = article_id(canonicalize_url(link))
    assert await versions.entry_hash(entry) is not None, "remembered: not published again"
    again = await poller.poll(state)
    assert again.published == 0
    assert len(publisher.published) == 1


async def test_an_abandoned_poll_waits_for_every_entry_being_published(
    server: httpserver.TestServer, fetcher: Fetcher, versions: ArticleVersions, namespace
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
    publisher = RecordingPublisher()
    publisher.gate.clear()
    progress = PollProgress()
    poll = asyncio.create_task(
        poller_for(fetcher, versions, publisher).poll(
            state_for(server, f"{base}/feed.xml"), progress
        )
    )
    await asyncio.wait_for(publisher.waiting.wait(), timeout=10)
    await asyncio.sleep(0.2)  # the other entry is on its page by now
    poll.cancel()
    await asyncio.sleep(0.2)
    assert not poll.done(), "the poll waits for the entry being published"
    publisher.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(poll, timeout=10)
    assert progress.published == 1
    assert [a.url for a in publisher.published] == [canonicalize_url(published_link)]
    assert await versions.entry_hash(article_id(canonicalize_url(page_link))) is None, (
        "the entry cut short is left for the next poll"
    )
