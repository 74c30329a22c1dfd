"""Several ingest instances share the feeds without polling one feed twice at the same time.

Each instance polls the feeds of the ingest.requests partitions it holds; the test starts a
second instance with its own User-Agent and reads, from the requests the feed server saw,
which instance polled which feed; and that a rebalance in the middle of a poll loses nothing.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import httpx
import pytest
from aiokafka.partitioner import DefaultPartitioner
from newswire_contracts import article_id, canonicalize_url, feed_id

from tests.feed_samples import LONG_TEXT, NINE_NEWS, rss, serve
from tests.httpserver import Handler, TestServer
from tests.support import INGEST_USER_AGENT, eventually

pytestmark = pytest.mark.e2e

SECOND_USER_AGENT = "NewswireTest/ingest-2"
PARTITIONS = 3  # the pipeline's topic partitions
EMPTY_RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def feeds_covering_every_partition(
    web: TestServer, prefix: str, per_partition: int = 2
) -> list[str]:
    """Feed paths chosen so that each partition of ingest.requests holds some of them."""
    chosen: dict[int, list[str]] = {p: [] for p in range(PARTITIONS)}
    n = 0
    while any(len(paths) < per_partition for paths in chosen.values()):
        path = f"{prefix}/feed-{n}.xml"
        key = feed_id(canonicalize_url(web.url(path))).encode()
        partition = DefaultPartitioner()(key, list(range(PARTITIONS)), list(range(PARTITIONS)))
        if len(chosen[partition]) < per_partition:
            chosen[partition].append(path)
        n += 1
    return [path for paths in chosen.values() for path in paths]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_two_instances_split_the_feeds_and_never_poll_one_at_once(
    pipeline, web: TestServer
) -> None:  # type: ignore[no-untyped-def]
    prefix = f"/{pipeline.namespace.name}/owned"
    paths = feeds_covering_every_partition(web, prefix)

    def slow_feed(request: Handler) -> None:
        time.sleep(0.3)  # long enough for a second poller to overlap, if there were one
        request.reply(200, EMPTY_RSS, {"Content-Type": "application/rss+xml"})

    for path in paths:
        web.route(path)(slow_feed)

    await pipeline.stack.start_instance(
        "ingest", "ingest-2", port=free_port(), env={"NEWSWIRE_FETCH_USER_AGENT": SECOND_USER_AGENT}
    )
    try:
        async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:
            for path in paths:
                response = await client.post(
                    "/v1/feeds", json={"url": web.url(path)}, headers=pipeline.auth
                )
                assert response.status_code == 201

        def polls(path: str) -> int:
            return len(web.requests_to(path))

        def agents_seen() -> set[str]:
            return {r.headers.get("user-agent", "") for p in paths for r in web.requests_to(p)}

        # The second instance has joined the group and taken its share ...
        await eventually(
            lambda: _async(SECOND_USER_AGENT in agents_seen()),
            timeout=90,
            what="the second instance to poll",
        )
        # ... and every feed has been polled twice by its owner since.
        settled = {p: polls(p) for p in paths}
        await eventually(
            lambda: _async(all(polls(p) >= settled[p] + 2 for p in paths)),
            timeout=90,
            what="polls after the rebalance",
        )
        # A steady window: no rebalance under way, each feed is its owner's alone. (While the
        # second instance joined, a poll abandoned by the old owner may still have been
        # answered by the server when the new owner's arrived: overlap is measured afresh.)
        start = {p: polls(p) for p in paths}
        web.reset_max_in_flight()
        await asyncio.sleep(6)
        agents: dict[str, set[str]] = {}
        for path in paths:
            window = web.requests_to(path)[start[path] :]
            assert window, f"{path} was not polled in the window"
            agents[path] = {r.headers.get("user-agent", "") for r in window}
            assert web.max_in_flight(path) == 1, f"{path} was polled twice at once"
            assert len(window) <= 6 / 1 + 1, (
                f"{path} polled {len(window)} times in 6 s: more than one poller"
            )
    finally:
        pipeline.stack.stop_instance("ingest", "ingest-2")

    assert all(len(seen) == 1 for seen in agents.values()), (
        f"a feed polled by both instances: {agents}"
    )
    used = set().union(*agents.values())
    assert used == {INGEST_USER_AGENT, SECOND_USER_AGENT}, "both instances took a share"

    # The instance left takes the stopped one's feeds back (and the next test starts with
    # the group settled, not in the middle of this rebalance).
    await settled_after_stop(web, paths)


async def _async(value: bool) -> bool:
    return value


async def test_a_poll_cut_short_by_a_rebalance_still_counts_every_article(
    pipeline, web: TestServer
) -> None:  # type: ignore[no-untyped-def]
    """What failed in CI once: a second instance joins while a feed's poll is under way.

    Kafka revokes every partition from the first instance (aiokafka's eager rebalance), which
    abandons the poll after it published the entry with its text in the feed and while it
    fetched the other entry's page, held back until then. The feed's new owner polls it
    again. Both articles must be served and counted once each.
    """
    base = f"/{pipeline.namespace.name}/cut"
    full, slow = web.url(f"{base}/full.html"), web.url(f"{base}/slow.html")
    rebalanced, held = threading.Event(), threading.Lock()

    def slow_page(request: Handler) -> None:
        if held.acquire(blocking=False):  # the first request: the poll to be abandoned
            rebalanced.wait(timeout=18)  # within ingest's 20 s limit for a whole fetch
        request.reply(200, NINE_NEWS, {"Content-Type": "text/html; charset=utf-8"})

    web.route(f"{base}/slow.html")(slow_page)
    serve(
        web,
        f"{base}/feed.xml",
        rss(
            [
                {"title": "In full", "link": full, "content": f"<p>{LONG_TEXT}</p>"},
                {"title": "Slow page", "link": slow},
            ],
            title="Cut",
        ),
        "application/rss+xml",
    )
    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:
        response = await client.post(
            "/v1/feeds", json={"url": web.url(f"{base}/feed.xml")}, headers=pipeline.auth
        )
        assert response.status_code == 201
        identifier = response.json()["id"]
        await eventually(
            lambda: _async(bool(web.requests_to(f"{base}/slow.html"))),
            timeout=30,
            what="the poll to reach the slow page",
        )
        held_since, polls = time.monotonic(), len(web.requests_to(f"{base}/feed.xml"))
        await pipeline.stack.start_instance(
            "ingest",
            "ingest-2",
            port=free_port(),
            env={"NEWSWIRE_FETCH_USER_AGENT": SECOND_USER_AGENT},
        )
        try:
            # No second poll of a feed starts while one is under way: a new poll of it means
            # the group has rebalanced and the held one was abandoned.
            await eventually(
                lambda: _async(len(web.requests_to(f"{base}/feed.xml")) > polls),
                timeout=max(0.0, 16 - (time.monotonic() - held_since)),
                what="the feed to be polled again after a rebalance, while its page was held",
            )
            rebalanced.set()

            async def counted() -> dict[str, Any] | None:
                status = (await client.get(f"/v1/feeds/{identifier}")).json()["status"]
                return status if status["articles_published"] >= 2 else None

            status = await eventually(counted, timeout=90, what="both articles to be counted")
            await asyncio.sleep(3)  # a later poll would count a repeat here
            status = (await client.get(f"/v1/feeds/{identifier}")).json()["status"]
            assert status["articles_published"] == 2
            for url in (full, slow):
                served = await client.get(f"/v1/articles/{article_id(canonicalize_url(url))}")
                assert served.status_code == 200, url
        finally:
            rebalanced.set()
            pipeline.stack.stop_instance("ingest", "ingest-2")
    await settled_after_stop(web, [f"{base}/feed.xml"])


async def settled_after_stop(web: TestServer, paths: list[str]) -> None:
    """Wait until the first instance polls each feed again after the second one stopped."""
    stopped = {p: len(web.requests_to(p)) for p in paths}

    def polled_by_first_since_stop(path: str) -> bool:
        return any(
            r.headers.get("user-agent") == INGEST_USER_AGENT
            for r in web.requests_to(path)[stopped[path] :]
        )

    await eventually(
        lambda: _async(all(polled_by_first_since_stop(p) for p in paths)),
        timeout=90,
        what="the first instance to poll every feed again",
    )
