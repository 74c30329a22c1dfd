"""Faults: services killed, the broker and the store restarted, under load. Afterwards every
submitted article is in the store exactly once, enriched and related as one relation engine
would relate it, and no good article was dead-lettered.

Real broker, real store, services as processes. The suite runs its own pipeline in its own
namespace, so the backlog it builds never delays another test. How many articles:
NEWSWIRE_TEST_FAULT_ARTICLES (default 2,000); this suite takes several minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from newswire_contracts import article_id, canonicalize_url
from newswire_devstack.config import DevstackSettings
from newswire_devstack.stack import Stack
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo import AsyncMongoClient

from conftest import Infrastructure, Namespace, Pipeline, running_pipeline
from tests.httpserver import TestServer
from tests.support import eventually, header, read_all
from tests.test_relations import all_enriched, stored_relations
from tests.test_relations import reference as relations_by_one_engine

pytestmark = pytest.mark.faults

CORPUS = sorted((Path(__file__).parents[1] / "data" / "news-cluster" / "data").glob("*.json"))


class FaultSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_TEST_FAULT_")

    articles: int = 2_000
    rate: float = 25.0
    """Submissions a second."""


def articles(namespace: str, count: int) -> list[dict[str, Any]]:
    """Distinct articles made from the dev corpus: each text is one article's, with a line
    naming its copy, so that no two are the same text."""
    raws = [json.loads(p.read_text()) for p in CORPUS]
    raws = [r for r in raws if len(r.get("text") or "") > 300]
    out = []
    for n in range(count):
        raw = raws[n % len(raws)]
        out.append(
            {
                "url": f"https://news.example/{namespace}/faults/{n}",
                "title": raw["title"],
                "text": f"{raw['text']}\n\nDispatch {n} of the fault test, filed from desk {n % 7}.",
                "published_at": raw["date_publish"].replace(" ", "T") + "Z",
                "source": raw.get("source_domain") or "unknown",
            }
        )
    return out


async def submit_all(
    client: httpx.AsyncClient, auth: dict[str, str], bodies: list[dict[str, Any]], rate: float
) -> None:
    """Submit at a steady rate; a submission the gateway cannot take now is retried until it is."""
    started = time.monotonic()

    async def one(n: int, body: dict[str, Any]) -> None:
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        for attempt in range(600):
            try:
                response = await client.post("/v1/articles", json=body, headers=auth)
                if response.status_code == 202:
                    return
                assert response.status_code in (502, 503), response.text
            except httpx.TransportError:
                pass  # the gateway is down: it is one of the faults
            await asyncio.sleep(min(2.0, 0.1 * (attempt + 1)))
        raise AssertionError(f"submission {n} never accepted")

    await asyncio.gather(*(one(n, body) for n, body in enumerate(bodies)))


@pytest.fixture(scope="module")
async def pipeline(infrastructure: Infrastructure, web: TestServer) -> AsyncIterator[Pipeline]:
    """A pipeline of the suite's own, in a namespace of its own."""
    async with running_pipeline(
        infrastructure, Namespace(f"f{uuid.uuid4().hex[:10]}"), web
    ) as started:
        yield started


@pytest.mark.timeout(2400)
async def test_nothing_lost_nothing_duplicated_through_faults(pipeline: Pipeline) -> None:
    settings = FaultSettings()
    bodies = articles(pipeline.namespace.name, settings.articles)
    expected = {article_id(canonicalize_url(b["url"])): b["url"] for b in bodies}
    services = pipeline.stack
    infrastructure = Stack(DevstackSettings())
    duration = settings.articles / settings.rate
    faults: list[str] = []

    async def inject() -> None:
        pause = duration / 8
        for name in ("ingest", "enrich", "relate", "gateway"):
            await asyncio.sleep(pause)
            assert services.processes.kill(name, services.marker(name)), f"{name} was not running"
            faults.append(f"SIGKILL {name}")
            print(f"fault: SIGKILL {name}", flush=True)
            await asyncio.sleep(2)
            await services.up([name], echo=False)
        if not infrastructure.is_external("kafka"):
            await asyncio.sleep(pause)
            infrastructure.down(["kafka"], echo=False)
            faults.append("restart kafka")
            await asyncio.sleep(3)
            await infrastructure.up(["kafka"], echo=False)
        if not infrastructure.is_external("store"):
            await asyncio.sleep(pause)
            infrastructure.down(["store"], echo=False)
            faults.append("restart store")
            await asyncio.sleep(3)
            await infrastructure.up(["store"], echo=False)

    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=30) as client:
        await asyncio.gather(submit_all(client, pipeline.auth, bodies, settings.rate), inject())
    assert len(faults) >= 4

    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        pipeline.infrastructure.mongodb_url, tz_aware=True
    )
    try:
        collection = mongo[pipeline.namespace.database]["articles"]
        projection = {
            "url": 1,
            "version": 1,
            "language": 1,
            "word_count": 1,
            "entities": 1,
            "story_id": 1,
            "related": 1,
        }

        async def all_stored() -> dict[str, dict[str, Any]] | None:
            with contextlib.suppress(Exception):  # the store may still be coming back
                documents = {
                    d["_id"]: d
                    async for d in collection.find({"url": {"$regex": "/faults/"}}, projection)
                }
                missing = expected.keys() - documents.keys()
                print(f"stored {len(documents)} of {len(expected)}", flush=True)
                return documents if not missing else None
            return None

        documents = await eventually(
            all_stored, timeout=900, interval=5, what="every submitted article to be stored"
        )
    finally:
        await mongo.close()

    # Exactly once: one document per URL, first version only (a repeat never made a version 2).
    urls = [d["url"] for d in documents.values()]
    assert len(urls) == len(set(urls)) == len(expected)
    for identifier, document in documents.items():
        assert document["url"] == canonicalize_url(expected[identifier])
        assert document["version"] == 1, identifier
        assert document["language"] == "en"
        assert document["word_count"] > 0
        assert document["entities"], identifier
        assert document["story_id"], identifier

    # Related as one relation engine relates the same articles: faults changed nothing.
    reference = relations_by_one_engine(await all_enriched(pipeline), list(expected))

    async def relations_settled() -> bool:
        return await stored_relations(pipeline, list(expected)) == reference

    await eventually(
        relations_settled, timeout=300, interval=5, what="relations to match one engine's"
    )

    # No good article was dead-lettered.
    for dead_letter_topic in ("ingest.dlq", "enrich.dlq", "relate.dlq"):
        letters = await read_all(
            pipeline.infrastructure.kafka_bootstrap_servers,
            pipeline.namespace.topic(dead_letter_topic),
        )
        ours = [
            r
            for r in letters
            if (r.key or b"").decode(errors="replace")
            in {*expected, *map(canonicalize_url, expected.values())}
        ]
        assert not ours, [header(r, "x-dlq-reason") for r in ours[:3]]

    print(
        f"\nfaults injected: {', '.join(faults)}; articles: {len(expected)}; stored once each: {len(documents)}"
    )
