"""Feeds and pages end to end: registered through the gateway, polled by ingest from an
HTTP server in the test process, their articles served back with full text.

Real broker, real store, services as processes. The pipeline polls feeds every 1 to 3 s.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from newswire_contracts import article_id, canonicalize_url, feed_id

from tests.feed_samples import LONG_TEXT, NINE_NEWS, NINE_NEWS_FIRST, atom, rss, serve
from tests.httpserver import Handler, TestServer
from tests.support import eventually, header, read_all, read_topic

pytestmark = pytest.mark.e2e


async def feed_status(
    client: httpx.AsyncClient, identifier: str, ready: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    async def probe() -> dict[str, Any] | None:
        response = await client.get(f"/v1/feeds/{identifier}")
        assert response.status_code == 200, response.text
        feed = response.json()
        seen[:] = [feed["status"]]
        return feed if ready(feed["status"]) else None

    try:
        return await eventually(probe, timeout=60, what=f"feed {identifier} status")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; its last status: {seen}") from None


async def served(
    client: httpx.AsyncClient, url: str, ready: Callable[[dict[str, Any]], bool] = bool
) -> dict[str, Any]:
    identifier = article_id(canonicalize_url(url))

    async def probe() -> dict[str, Any] | None:
        response = await client.get(f"/v1/articles/{identifier}")
        return response.json() if response.status_code == 200 and ready(response.json()) else None

    return await eventually(probe, timeout=60, what=f"article {url} to be served")


@pytest.fixture
async def client(pipeline) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:
        yield client


async def test_a_registered_feed_is_polled_and_its_articles_served_with_full_text(
    pipeline,
    web: TestServer,
    client: httpx.AsyncClient,  # type: ignore[no-untyped-def]
) -> None:
    base = f"/{pipeline.namespace.name}/news"
    full, summary_only = web.url(f"{base}/full.html"), web.url(f"{base}/summary.html")
    serve(web, f"{base}/summary.html", NINE_NEWS, "text/html; charset=utf-8")
    serve(
        web,
        f"{base}/feed.xml",
        rss(
            [
                {"title": "Full text in the feed", "link": full, "content": f"<p>{LONG_TEXT}</p>"},
                {
                    "title": "Only a summary",
                    "link": summary_only,
                    "summary": "Documents were released.",
                },
            ],
            title="Test Wire",
        ),
        "application/rss+xml",
        etag='"v1"',
    )

    response = await client.post(
        "/v1/feeds", json={"url": web.url(f"{base}/feed.xml")}, headers=pipeline.auth
    )
    assert response.status_code == 201, response.text
    feed = response.json()
    assert feed["id"] == feed_id(canonicalize_url(web.url(f"{base}/feed.xml")))
    assert response.headers["location"] == f"/v1/feeds/{feed['id']}"

    status = await feed_status(
        client, feed["id"], lambda s: s["state"] == "ok" and s["articles_published"] == 2
    )
    assert status["status"]["last_status"] in (200, 304)
    assert status["status"]["entries_seen"] >= 2
    assert status["status"]["feed_title"] == "Test Wire"
    assert status["status"]["next_fetch_at"] > status["status"]["last_fetch_at"]

    from_feed = await served(client, full)
    assert from_feed["text"] == LONG_TEXT
    assert from_feed["source"] == "Test Wire"
    assert from_feed["published_at"] == "2026-11-01T12:00:00Z"
    assert (from_feed["text_source"], from_feed["summary_only"]) == ("feed", False)
    from_page = await served(client, summary_only)
    assert from_page["text"].startswith(NINE_NEWS_FIRST), "summary-only entries get the page's text"
    assert from_page["title"] == "Only a summary"
    assert (from_page["text_source"], from_page["summary_only"]) == ("page", False)

    # Later polls are conditional, and unchanged entries are not fetched again.
    await eventually(
        lambda: _async(
            any(
                r.headers.get("if-none-match") == '"v1"'
                for r in web.requests_to(f"{base}/feed.xml")
            )
        ),
        what="a conditional GET",
    )
    assert web.requests_to(f"{base}/full.html") == []
    assert len(web.requests_to(f"{base}/summary.html")) == 1

    again = await client.post(
        "/v1/feeds",
        json={"url": web.url(f"{base}/feed.xml"), "title": "Renamed"},
        headers=pipeline.auth,
    )
    assert again.status_code == 200
    assert again.json()["id"] == feed["id"]
    assert again.json()["title"] == "Renamed"
    listed = (await client.get("/v1/feeds", params={"limit": 1000})).json()
    assert feed["id"] in [f["id"] for f in listed["items"]]

    assert (
        await client.delete(f"/v1/feeds/{feed['id']}", headers=pipeline.auth)
    ).status_code == 204
    assert (await client.get(f"/v1/feeds/{feed['id']}")).status_code == 404
    await asyncio.sleep(2)  # a poll already under way may still finish
    polls_after_delete = len(web.requests_to(f"{base}/feed.xml"))
    await asyncio.sleep(5)
    assert len(web.requests_to(f"{base}/feed.xml")) == polls_after_delete, (
        "a deleted feed is not polled"
    )


async def test_bad_feeds_get_a_clear_status_and_the_service_carries_on(
    pipeline,
    web: TestServer,
    client: httpx.AsyncClient,  # type: ignore[no-untyped-def]
) -> None:
    base = f"/{pipeline.namespace.name}/bad"
    serve(web, f"{base}/error.xml", b"oops", "text/plain", status=500)
    serve(web, f"{base}/page.xml", NINE_NEWS, "text/html")
    serve(web, f"{base}/empty.xml", rss([]), "application/rss+xml")
    serve(web, f"{base}/binary.xml", bytes(range(256)) * 64, "application/octet-stream")
    ids = {}
    for name in ("error", "page", "empty", "binary"):
        response = await client.post(
            "/v1/feeds", json={"url": web.url(f"{base}/{name}.xml")}, headers=pipeline.auth
        )
        assert response.status_code == 201
        ids[name] = response.json()["id"]

    error = await feed_status(client, ids["error"], lambda s: s["state"] == "failing")
    assert error["status"]["last_status"] == 500
    assert "HTTP 500" in error["status"]["last_error"]
    assert error["status"]["last_error_step"] == "fetch"
    assert error["status"]["error_count"] >= 1
    page = await feed_status(client, ids["page"], lambda s: s["state"] == "failing")
    assert "not a feed" in page["status"]["last_error"]
    assert page["status"]["last_error_step"] == "parse"
    binary = await feed_status(client, ids["binary"], lambda s: s["state"] == "failing")
    assert "not a feed" in binary["status"]["last_error"]
    empty = await feed_status(client, ids["empty"], lambda s: s["state"] == "ok")
    assert empty["status"]["entries_seen"] == 0
    assert empty["status"]["last_error"] is None


async def test_entries_whose_pages_cannot_be_had_are_served_at_once_and_upgraded_when_they_come(
    pipeline,
    web: TestServer,
    client: httpx.AsyncClient,  # type: ignore[no-untyped-def]
) -> None:
    """The issue's news feeds: entries with a summary only, pages unreachable. A reader sees
    them at once, with the feed's text and a link; the page's text follows when it comes."""
    base = f"/{pipeline.namespace.name}/unreachable"
    later, gone = web.url(f"{base}/later.html"), web.url(f"{base}/gone.html")
    headline = web.url(f"{base}/headline.html")  # 404, and the entry has no summary
    nowhere = f"http://{pipeline.namespace.name}.newsweb.invalid/story.html"  # never resolves
    available = threading.Event()

    def later_page(request: Handler) -> None:
        if available.is_set():
            request.reply(200, NINE_NEWS, {"Content-Type": "text/html; charset=utf-8"})
        else:
            request.reply(503, b"busy", {"Content-Type": "text/plain", "Retry-After": "1"})

    web.route(f"{base}/later.html")(later_page)
    serve(web, f"{base}/gone.html", b"gone", "text/plain", status=410)
    serve(
        web,
        f"{base}/feed.xml",
        rss(
            [
                {"title": "Later", "link": later, "summary": "Documents were released."},
                {"title": "Gone", "link": gone, "summary": "A story that was taken down."},
                {"title": "Nowhere", "link": nowhere, "summary": "A story on a site that is down."},
                {"title": "Only a headline", "link": headline},
            ],
            title="Ticker",
        ),
        "application/rss+xml",
        etag='"t1"',
    )
    response = await client.post(
        "/v1/feeds", json={"url": web.url(f"{base}/feed.xml")}, headers=pipeline.auth
    )
    identifier = response.json()["id"]

    for url, summary in (
        (later, "Documents were released."),
        (gone, "A story that was taken down."),
        (nowhere, "A story on a site that is down."),
    ):
        article = await served(client, url)
        assert (article["text"], article["version"]) == (summary, 1)
        assert (article["text_source"], article["summary_only"]) == ("feed", True)
        assert article["source"] == "Ticker"
    # A headline alone is still an article (Miniflux would list it): no text, a link.
    bare = await served(client, headline)
    assert (bare["title"], bare["text"], bare["summary_only"]) == ("Only a headline", "", True)
    page = (await client.get(f"/articles/{article_id(canonicalize_url(later))}")).text
    assert "Summary from the feed: the full article could not be fetched" in page
    assert f'Read it at <a href="{canonicalize_url(later)}"' in page
    status = await feed_status(client, identifier, lambda s: s["pages_pending"] >= 1)
    assert status["status"]["state"] == "ok"

    available.set()
    upgraded = await served(client, later, lambda a: a["version"] == 2)
    assert upgraded["text"].startswith(NINE_NEWS_FIRST)
    assert (upgraded["text_source"], upgraded["summary_only"], upgraded["title"]) == (
        "page", False, "Later",
    )  # fmt: skip
    page = (await client.get(f"/articles/{upgraded['id']}")).text
    assert "Summary from the feed" not in page
    # The site that is down is given up after its attempts; the page that is gone at once.
    status = await feed_status(
        client, identifier, lambda s: s["pages_pending"] == 0 and s["articles_published"] == 5
    )
    assert len(web.requests_to(f"{base}/gone.html")) == 1
    assert (await served(client, nowhere))["summary_only"]


async def test_two_feeds_of_one_blog_registered_together_publish_each_entry_once(
    pipeline,
    web: TestServer,
    client: httpx.AsyncClient,  # type: ignore[no-untyped-def]
) -> None:
    """The issue's first case: an RSS and an Atom feed of one blog with the same 25 entries,
    polled at the same moment. Before, one of the two upserts got a duplicate-key error and
    both feeds stalled; now each entry is one article, published once, counted once."""
    base = f"/{pipeline.namespace.name}/blog"
    items = [
        {
            "title": f"Post {n}",
            "link": web.url(f"{base}/post-{n}.html"),
            "content": f"<p>{LONG_TEXT} {n}</p>",
        }
        for n in range(25)
    ]
    serve(web, f"{base}/rss.xml", rss(items, title="Blog"), "application/rss+xml")
    serve(web, f"{base}/atom.xml", atom(items, title="Blog"), "application/atom+xml")
    ids = await asyncio.gather(
        *(
            client.post("/v1/feeds", json={"url": web.url(f"{base}/{name}")}, headers=pipeline.auth)
            for name in ("rss.xml", "atom.xml")
        )
    )
    feeds = [response.json()["id"] for response in ids]
    urls = [item["link"] for item in items]
    for url in urls:
        await served(client, url)
    statuses = [
        (await feed_status(client, f, lambda s: s["state"] == "ok" and s["entries_seen"] >= 50))[
            "status"
        ]
        for f in feeds
    ]
    assert all(s["last_error"] is None for s in statuses), statuses
    events = await read_all(
        pipeline.infrastructure.kafka_bootstrap_servers,
        pipeline.namespace.topic("articles.ingested"),
    )
    ours = {article_id(canonicalize_url(u)) for u in urls}
    published = Counter(r.key.decode() for r in events if r.key and r.key.decode() in ours)
    assert published == dict.fromkeys(ours, 1), "one publication per entry"
    assert sum(s["articles_published"] for s in statuses) == 25
    for status in statuses:
        assert status["next_fetch_at"] > status["last_fetch_at"]


async def test_a_url_only_submission_is_fetched_and_a_changed_page_is_a_new_version(
    pipeline,
    web: TestServer,
    client: httpx.AsyncClient,  # type: ignore[no-untyped-def]
) -> None:
    path = f"/{pipeline.namespace.name}/story.html"
    url = web.url(path)
    serve(web, path, NINE_NEWS, "text/html")
    response = await client.post("/v1/articles", json={"url": url}, headers=pipeline.auth)
    assert response.status_code == 202
    first = await served(client, url)
    assert first["version"] == 1
    assert first["text"].startswith(NINE_NEWS_FIRST)
    assert first["title"].startswith("Nearly 3000 pages of Jeffrey Epstein documents released")

    updated = NINE_NEWS.replace(b"For nearly two decades", b"UPDATED: For nearly two decades")
    serve(web, path, updated, "text/html")
    await client.post("/v1/articles", json={"url": url}, headers=pipeline.auth)
    second = await served(client, url, lambda a: a["version"] == 2)
    assert second["text"].startswith("UPDATED: For nearly two decades")
    assert second["id"] == first["id"]


async def test_private_addresses_are_never_fetched(pipeline, client: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    secret = "http://127.0.0.1:9/admin"  # loopback, not on the allowlist
    response = await client.post("/v1/articles", json={"url": secret}, headers=pipeline.auth)
    assert response.status_code == 202
    letters = await read_topic(
        pipeline.infrastructure.kafka_bootstrap_servers,
        pipeline.namespace.topic("ingest.dlq"),
        until=lambda records: any(r.key == canonicalize_url(secret).encode() for r in records),
    )
    [letter] = [r for r in letters if r.key == canonicalize_url(secret).encode()]
    reason = header(letter, "x-dlq-reason") or ""
    assert "127.0.0.1" in reason
    assert "loopback" in reason

    metadata = await client.post(
        "/v1/feeds", json={"url": "http://169.254.169.254/latest/meta-data"}, headers=pipeline.auth
    )
    status = await feed_status(client, metadata.json()["id"], lambda s: s["state"] == "failing")
    assert "169.254.169.254" in status["status"]["last_error"]


async def _async(value: bool) -> bool:
    return value


async def test_the_pages_canonical_url_wins_and_the_submitted_url_still_finds_it(
    pipeline,
    web: TestServer,
    client: httpx.AsyncClient,  # type: ignore[no-untyped-def]
) -> None:
    amp, canonical = (
        f"/{pipeline.namespace.name}/amp/story.html",
        f"/{pipeline.namespace.name}/story-canonical.html",
    )
    original = b"https://www.9news.com.au/world/usa-jeffrey-epstein-documents-released-but-some-questions-remain-unanswered/141e61e9-8a07-42e4-a527-2f03f45e7ef0"
    page = NINE_NEWS.replace(
        b'<link href="' + original + b'" rel="canonical">',
        f'<link href="{web.url(canonical)}" rel="canonical">'.encode(),
    )
    assert page != NINE_NEWS
    serve(web, amp, page, "text/html")
    response = await client.post(
        "/v1/articles", json={"url": web.url(amp) + "?utm_source=x"}, headers=pipeline.auth
    )
    submitted_id = response.json()["id"]
    article = await served(client, web.url(amp))  # looked up by the submitted URL's id
    assert article["url"] == canonicalize_url(web.url(canonical))
    assert article["id"] == article_id(canonicalize_url(web.url(canonical)))
    assert article["id"] != submitted_id
    assert (await client.get(f"/v1/articles/{article['id']}")).status_code == 200
