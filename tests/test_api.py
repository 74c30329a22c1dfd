"""The v1 API beyond single articles: listings and search, conditional GET, comments,
the live stream, metrics. Real broker, real store, services as processes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from newswire_contracts import article_id, canonicalize_url, cloudevents
from newswire_contracts.events import CommentPosted

from tests.support import eventually, read_topic

pytestmark = pytest.mark.e2e


@pytest.fixture
async def client(pipeline) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=15) as client:
        yield client


async def post_and_wait(
    client: httpx.AsyncClient, pipeline: Any, body: dict[str, Any]
) -> dict[str, Any]:  # type: ignore[misc]
    response = await client.post("/v1/articles", json=body, headers=pipeline.auth)
    assert response.status_code == 202, response.text
    identifier = response.json()["id"]

    async def served() -> dict[str, Any] | None:
        got = await client.get(f"/v1/articles/{identifier}")
        return got.json() if got.status_code == 200 else None

    return await eventually(served, timeout=90, what=f"article {identifier}")


WIRE = (
    "The volcano on the island of {place} erupted on {day}, sending ash {km} kilometres into the sky. "
    "Authorities in {place} ordered the evacuation of villages near the crater, the civil protection agency said."
)


async def test_listing_filters_search_and_stable_pages(pipeline, client: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    ns = pipeline.namespace.name
    source = f"Listing Wire {ns}"
    bodies = [
        {
            "url": f"https://news.example/{ns}/list/{n}",
            "title": f"Eruption {n} on {place}",
            "source": source,
            "text": WIRE.format(place=place, day=day, km=km),
            "published_at": f"2026-03-0{n + 1}T08:00:00Z",
        }
        for n, (place, day, km) in enumerate(
            [("Stromboli", "Monday", 3), ("Etna", "Tuesday", 5), ("Vulcano", "Wednesday", 2)]
        )
    ]
    articles = [await post_and_wait(client, pipeline, body) for body in bodies]
    newest_first = [a["id"] for a in reversed(articles)]

    listed = (await client.get("/v1/articles", params={"source": source})).json()
    assert [i["id"] for i in listed["items"]] == newest_first
    assert listed["next_cursor"] is None
    assert "text" not in listed["items"][0]

    # Pages of one, following the cursor; an article arriving meanwhile does not disturb them.
    page = (await client.get("/v1/articles", params={"source": source, "limit": 1})).json()
    seen = [i["id"] for i in page["items"]]
    await post_and_wait(
        client,
        pipeline,
        {
            **bodies[0],
            "url": f"https://news.example/{ns}/list/late",
            "published_at": "2026-03-09T08:00:00Z",
        },
    )
    while page["next_cursor"]:
        page = (
            await client.get(
                "/v1/articles", params={"source": source, "limit": 1, "cursor": page["next_cursor"]}
            )
        ).json()
        seen.extend(i["id"] for i in page["items"])
    assert seen == newest_first

    etna = (
        await client.get("/v1/articles", params={"source": source, "q": "Etna eruption"})
    ).json()["items"]
    assert [i["id"] for i in etna] == [articles[1]["id"]]
    none = (await client.get("/v1/articles", params={"source": source, "q": "Krakatoa"})).json()[
        "items"
    ]
    assert none == []
    window = (
        await client.get(
            "/v1/articles",
            params={
                "source": source,
                "since": "2026-03-02T00:00:00Z",
                "until": "2026-03-03T00:00:00Z",
            },
        )
    ).json()["items"]
    assert [i["id"] for i in window] == [articles[1]["id"]]
    entity = articles[0]["entities"][0]["name"]
    by_entity = (
        await client.get("/v1/articles", params={"source": source, "entity": entity.upper()})
    ).json()["items"]
    assert articles[0]["id"] in [i["id"] for i in by_entity]
    english = (
        await client.get("/v1/articles", params={"source": source, "language": "en"})
    ).json()["items"]
    assert len(english) == 4


async def test_typed_parameters_leave_no_room_for_operators(
    pipeline, client: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    literal = await client.get("/v1/articles", params={"source": '{"$ne": null}'})
    assert literal.status_code == 200
    assert literal.json()["items"] == [], "a value is a value, never an operator"
    bracket = await client.get("/v1/articles?source[$ne]=x&limit=1")
    unfiltered = await client.get("/v1/articles?limit=1")
    assert bracket.json() == unfiltered.json(), "unknown parameters are ignored, not passed on"
    bad = await client.get("/v1/articles", params={"since": "yesterday"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    # Stop words and one-letter words are not indexed: a search of nothing else filters nothing.
    stop_words = await client.get("/v1/articles", params={"q": "the a", "limit": 1})
    assert stop_words.status_code == 200
    assert stop_words.json() == unfiltered.json()
    cursor = await client.get("/v1/articles", params={"cursor": "bm90IGpzb24"})
    assert cursor.status_code == 422
    assert "cursor" in cursor.json()["detail"]


async def test_article_and_story_reads_answer_if_none_match(
    pipeline, client: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    ns = pipeline.namespace.name
    article = await post_and_wait(
        client,
        pipeline,
        {
            "url": f"https://news.example/{ns}/etag",
            "title": "ETag test",
            "text": WIRE.format(place="Ischia", day="Friday", km=1),
        },
    )
    first = await client.get(f"/v1/articles/{article['id']}")
    etag = first.headers["etag"]
    again = await client.get(f"/v1/articles/{article['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = await client.get(
        f"/v1/articles/{article['id']}", headers={"If-None-Match": '"something-else"'}
    )
    assert other.status_code == 200
    assert other.json() == first.json()

    async def story_written() -> httpx.Response | None:
        response = await client.get(f"/v1/stories/{article['story_id']}")
        return response if response.status_code == 200 else None

    story = await eventually(story_written, what="the article's story")
    assert (
        await client.get(
            f"/v1/stories/{article['story_id']}", headers={"If-None-Match": story.headers["etag"]}
        )
    ).status_code == 304


async def test_readers_comment_and_operators_moderate(pipeline, client: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    ns = pipeline.namespace.name
    article = await post_and_wait(
        client,
        pipeline,
        {
            "url": f"https://news.example/{ns}/comments",
            "title": "Comments",
            "text": WIRE.format(place="Lipari", day="Sunday", km=4),
        },
    )
    base = f"/v1/articles/{article['id']}/comments"
    posted = await client.post(
        base, json={"author": "Ann", "body": "<script>alert(1)</script> Scary!"}
    )
    assert posted.status_code == 201, posted.text
    comment = posted.json()
    assert comment["body"] == "<script>alert(1)</script> Scary!", (
        "stored as plain text; escaped where shown"
    )
    listed = (await client.get(base)).json()["items"]
    assert [c["id"] for c in listed] == [comment["id"]]

    letters = await read_topic(
        pipeline.infrastructure.kafka_bootstrap_servers,
        pipeline.namespace.topic("comments.posted"),
        until=lambda records: any(r.key == article["id"].encode() for r in records),
    )
    [event] = [
        cloudevents.decode(CommentPosted, r.headers, r.value)[0]
        for r in letters
        if r.key == article["id"].encode()
    ]
    assert event.id == comment["id"]
    assert event.author == "Ann"

    assert (await client.post(base, json={"author": "", "body": "x"})).status_code == 422
    assert (await client.post(base, json={"author": "Bo", "body": "x" * 5001})).status_code == 422
    assert (
        await client.post(f"/v1/articles/{'0' * 32}/comments", json={"author": "Bo", "body": "x"})
    ).status_code == 404
    unauthorised = await client.patch(f"{base}/{comment['id']}", json={"hidden": True})
    assert unauthorised.status_code == 401
    hidden = await client.patch(
        f"{base}/{comment['id']}", json={"hidden": True}, headers=pipeline.auth
    )
    assert hidden.json()["hidden"] is True
    assert (await client.get(base)).json()["items"] == []
    assert (
        await client.delete(f"{base}/{comment['id']}", headers=pipeline.auth)
    ).status_code == 204
    assert (
        await client.delete(f"{base}/{comment['id']}", headers=pipeline.auth)
    ).status_code == 404


async def test_comments_are_rate_limited_per_client(pipeline, client: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    ns = pipeline.namespace.name
    article = await post_and_wait(
        client,
        pipeline,
        {
            "url": f"https://news.example/{ns}/flood",
            "title": "Flood",
            "text": WIRE.format(place="Salina", day="Friday", km=1),
        },
    )
    statuses = [
        (
            await client.post(
                f"/v1/articles/{article['id']}/comments",
                json={"author": "Bot", "body": f"spam {n}"},
            )
        ).status_code
        for n in range(8)
    ]
    assert 429 in statuses
    limited = await client.post(
        f"/v1/articles/{article['id']}/comments", json={"author": "Bot", "body": "more"}
    )
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["title"] == "Too Many Requests"


async def test_the_stream_tells_of_new_articles_and_resumes(
    pipeline, client: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    ns = pipeline.namespace.name
    url = f"https://news.example/{ns}/live"
    identifier = article_id(canonicalize_url(url))
    received: list[dict[str, str]] = []

    async def listen() -> None:
        async with client.stream(
            "GET", "/v1/stream", params={"article": identifier}, timeout=None
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            event: dict[str, str] = {}
            async for line in response.aiter_lines():
                if not line:
                    if event.get("event"):
                        received.append(event)
                        return
                    event = {}
                    continue
                key, _, value = line.partition(":")
                event[key] = value.strip()

    listener = asyncio.create_task(listen())
    await asyncio.sleep(1)
    await post_and_wait(
        client,
        pipeline,
        {"url": url, "title": "Live", "text": WIRE.format(place="Panarea", day="Monday", km=2)},
    )
    await asyncio.wait_for(listener, timeout=60)
    [event] = received
    assert event["event"] == "article"
    assert json.loads(event["data"])["id"] == identifier
    assert event["id"]

    # Coming back with the last id: nothing missed, no reset. With a nonsense id: reset.
    async with client.stream(
        "GET", "/v1/stream", headers={"Last-Event-ID": "nonsense"}, timeout=10
    ) as response:
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                assert line == "event: reset"
                break


async def test_metrics_count_requests_by_route(pipeline, client: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    await client.get(f"/v1/articles/{'0' * 32}")
    text = (await client.get("/metrics")).text
    assert (
        'newswire_http_requests_total{method="GET",route="/v1/articles/{article_id}",status="404"}'
        in text
    )
    assert "newswire_http_request_duration_seconds_bucket" in text
