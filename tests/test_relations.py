"""Related articles, near-duplicates and stories end to end, with two relate instances and a
replay. Real broker, real store, services as processes."""

from __future__ import annotations

import contextlib
import json
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from newswire_contracts import ArticleEnriched, cloudevents
from newswire_contracts.readmodel import ARTICLES_COLLECTION, RELATIONS_COLLECTION, joined_article
from newswire_relate.domain.relator import Relator
from pymongo import AsyncMongoClient

from tests.support import eventually, partitions_of, read_all

pytestmark = pytest.mark.e2e

REPO = Path(__file__).parents[1]
SEED = json.loads((REPO / "data" / "sample" / "seed" / "articles.json").read_text())
CLUSTER = REPO / "data" / "news-cluster" / "data"


async def post(client: httpx.AsyncClient, pipeline: Any, body: dict[str, Any]) -> str:  # type: ignore[misc]
    response = await client.post("/v1/articles", json=body, headers=pipeline.auth)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def served(client: httpx.AsyncClient, identifier: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await client.get(f"/v1/articles/{identifier}")
        return response.json() if response.status_code == 200 else None

    return await eventually(probe, timeout=90, what=f"article {identifier}")


async def test_related_lists_duplicates_and_stories_through_the_gateway(pipeline) -> None:  # type: ignore[no-untyped-def]
    base = f"https://news.example/{pipeline.namespace.name}/rel"
    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:
        ids = []
        for n, seed in enumerate(SEED):
            body = {k: seed[k] for k in ("title", "text", "source", "published_at")} | {
                "url": f"{base}/seed-{n}"
            }
            ids.append(await post(client, pipeline, body))
        wire = SEED[3]
        mirror = await post(
            client,
            pipeline,
            {
                "url": f"{base}/mirror",
                "title": wire["title"],
                "text": wire["text"],
                "source": "Mirror",
                "published_at": "2025-07-16T11:00:00Z",
            },
        )
        for identifier in [*ids, mirror]:
            await served(client, identifier)

        # The page of July 8 lists the reports of July 16: newer articles join older lists.
        async def newer_listed() -> list[dict[str, Any]] | None:
            items = (
                await client.get(f"/v1/articles/{ids[0]}/related", params={"limit": 20})
            ).json()["items"]
            return items if set(ids[1:]) & {i["id"] for i in items} else None

        items = await eventually(
            newer_listed, timeout=60, what="a newer article in the older article's list"
        )
        assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
        first = next(i for i in items if i["id"] in ids[1:])
        assert first["title"] in {s["title"] for s in SEED[1:]}
        assert first["shared_entities"], "each related article says why"
        assert {"id", "title", "url", "source", "published_at", "score"} <= set(first)

        # The republished wire story is a near-duplicate, shown as such.
        async def duplicate_seen() -> dict[str, Any] | None:
            article = (await client.get(f"/v1/articles/{mirror}")).json()
            return article if article["duplicate_of"] == ids[3] else None

        await eventually(duplicate_seen, timeout=60, what="the mirror to be marked a duplicate")
        mirror_related = (await client.get(f"/v1/articles/{mirror}/related")).json()["items"]
        assert {"id": ids[3], "relation": "duplicate"}.items() <= next(
            i for i in mirror_related if i["id"] == ids[3]
        ).items()

        # One story for the wire text and its copy, its timeline in publication order.
        article = (await client.get(f"/v1/articles/{mirror}")).json()
        story_id = article["story_id"]
        assert story_id == (await client.get(f"/v1/articles/{ids[3]}")).json()["story_id"]

        async def story_ready() -> dict[str, Any] | None:
            response = await client.get(f"/v1/stories/{story_id}")
            story = response.json() if response.status_code == 200 else None
            return (
                story
                if story and {ids[3], mirror} <= {a["id"] for a in story["articles"]}
                else None
            )

        story = await eventually(story_ready, timeout=60, what="the story")
        times = [a["published_at"] for a in story["articles"]]
        assert times == sorted(times)
        assert story["article_count"] == len(story["articles"])
        assert story["first_seen"] <= story["last_seen"]
        listed = (await client.get("/v1/stories", params={"limit": 100})).json()
        assert story_id in [s["id"] for s in listed["items"]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def all_enriched(pipeline: Any) -> list[ArticleEnriched]:  # type: ignore[misc]
    """Every enriched article of this test session, from the topic."""
    records = await read_all(
        pipeline.infrastructure.kafka_bootstrap_servers,
        pipeline.namespace.topic("articles.enriched"),
    )
    articles = []
    for record in records:
        with contextlib.suppress(cloudevents.InvalidEventError):  # the dead-letter tests' poison
            articles.append(cloudevents.decode(ArticleEnriched, record.headers, record.value)[0])
    return articles


async def stored_relations(pipeline: Any, ids: list[str]) -> dict[str, tuple[Any, ...]]:  # type: ignore[misc]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(pipeline.infrastructure.mongodb_url)
    try:
        database = client[pipeline.namespace.database]
        found = {}
        for identifier in ids:
            # As the gateway reads it: the article joined with its relations document.
            document = await database[ARTICLES_COLLECTION].find_one({"_id": identifier})
            if document is not None:
                relations = await database[RELATIONS_COLLECTION].find_one({"_id": identifier})
                document = joined_article(document, relations)
                related = tuple(
                    (r["id"], round(r["score"], 4), r["relation"]) for r in document["related"]
                )
                found[identifier] = (related, document["story_id"], document["duplicate_of"])
        return found
    finally:
        await client.close()


def reference(articles: list[ArticleEnriched], ids: list[str]) -> dict[str, tuple[Any, ...]]:
    """What one relation engine makes of the same articles, in any order."""
    relator = Relator()
    for article in articles:
        relator.add(article)
    return {
        i: (
            tuple((r.id, round(r.score, 4), r.relation) for r in relator.related(i)),
            relator.story_id(i),
            relator.duplicate_of(i),
        )
        for i in ids
    }


async def test_two_instances_and_a_replay_give_what_one_engine_gives(pipeline) -> None:  # type: ignore[no-untyped-def]
    stack = pipeline.stack
    await stack.start_instance("relate", "relate-2", port=free_port())
    base = f"https://news.example/{pipeline.namespace.name}/scale"
    files = sorted(CLUSTER.glob("*.json"))[:40]
    try:
        async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:
            ids = []
            for n, path in enumerate(files):
                raw = json.loads(path.read_text())
                published = raw["date_publish"].replace(" ", "T") + "Z"
                body = {
                    "url": f"{base}/{n}",
                    "title": raw["title"],
                    "text": raw["text"],
                    "published_at": published,
                }
                ids.append(await post(client, pipeline, body))
            for identifier in ids:
                await served(client, identifier)
        expected = reference(await all_enriched(pipeline), ids)
        assert sum(len(related) for related, _, _ in expected.values()) > 20, (
            "the sample has relations to check"
        )

        async def converged() -> bool:
            return await stored_relations(pipeline, ids) == expected

        await eventually(
            converged, timeout=120, what="two instances to store what one engine computes"
        )
    finally:
        stack.stop_instance("relate", "relate-2")

    # Replay: relate reads articles.enriched again from the start and writes the same.
    stack.down(["relate"], echo=False)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(pipeline.infrastructure.mongodb_url)
    try:
        database = mongo[pipeline.namespace.database]
        for identifier in ids:
            for collection in (ARTICLES_COLLECTION, RELATIONS_COLLECTION):
                await database[collection].update_one(
                    {"_id": identifier}, {"$set": {"related": [], "story_id": None}}
                )
    finally:
        await mongo.close()
    await rewind_group(pipeline, f"{pipeline.namespace.topic_prefix}newswire-relate")
    await stack.up(["relate"], echo=False)

    async def replayed() -> bool:
        return await stored_relations(pipeline, ids) == expected

    await eventually(replayed, timeout=120, what="the replay to store the same relations")


async def rewind_group(pipeline: Any, group: str) -> None:  # type: ignore[misc]
    """Set the (idle) group's offsets on relate's topics back to the beginning."""
    bootstrap = pipeline.infrastructure.kafka_bootstrap_servers
    topics = [
        pipeline.namespace.topic("articles.enriched"),
        pipeline.namespace.topic("relate.refresh"),
    ]
    partitions = await partitions_of(bootstrap, *topics)
    assert len(partitions) == 6
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit({tp: 0 for tp in partitions})
    finally:
        await consumer.stop()
