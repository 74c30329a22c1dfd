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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from newswire_contracts import article_id, canonicalize_url
from newswire_devstack.components import SERVICES
from newswire_devstack.config import DevstackSettings
from newswire_devstack.processes import resident_bytes
from newswire_devstack.stack import Stack
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo import AsyncMongoClient

from conftest import Infrastructure, Namespace, Pipeline, running_pipeline
from tests.httpserver import TestServer
from tests.support import eventually, header, read_all
from tests.test_relations import all_enriched, stored_relations
from tests.test_relations import reference as relations_by_one_engine

pytestmark = pytest.mark.faults

PASS_DAYS = 6 * 365
CORPUS = sorted((Path(__file__).parents[1] / "data" / "news-cluster" / "data").glob("*.json"))


class FaultSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_TEST_FAULT_")

    articles: int = 2_000
    rate: float = 25.0
    """Submissions a second."""


def articles(namespace: str, count: int) -> list[dict[str, Any]]:
    """Distinct articles made from the dev corpus: each text is one article's, with a line
    naming its copy, so that no two are the same text. Each pass over the corpus is dated
    six years after the one before (the corpus spans five), so passes never meet in relate's
    window: every article has as many candidates as in the corpus itself (41 at most), far
    below relate's cap of 200, beyond which which pairs get scored depends on arrival order."""
    raws = [json.loads(p.read_text()) for p in CORPUS]
    raws = [r for r in raws if len(r.get("text") or "") > 300]
    out = []
    for n in range(count):
        raw = raws[n % len(raws)]
        published = datetime.fromisoformat(raw["date_publish"]).replace(tzinfo=UTC)
        published += timedelta(days=PASS_DAYS * (n // len(raws)))
        out.append(
            {
                "url": f"https://news.example/{namespace}/faults/{n}",
                "title": raw["title"],
                "text": f"{raw['text']}\n\nDispatch {n} of the fault test, filed from desk {n % 7}.",
                "published_at": published.isoformat(),
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


class MemorySampler:
    """Resident memory of each service, twice a second, beside how many articles are stored.

    Twice a second: the backlog the faults leave is worked through in well under a minute
    now, and the halves compared below need ten samples each.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self.stored = 0
        self.samples: dict[str, list[tuple[int, int]]] = {name: [] for name in SERVICES}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _sample(self) -> None:
        stack = self._pipeline.stack
        while True:
            for name in SERVICES:
                pid = stack.processes.running_pid(name, stack.marker(name))
                if pid is not None:
                    self.samples[name].append((self.stored, resident_bytes(pid)))
            await asyncio.sleep(0.5)

    def assert_bounded(self) -> None:
        """Ingest, enrich and the gateway hold nothing per article: their peak in the second
        half of the run is within 15 % (plus 32 MiB of allocator noise) of the first half's.
        Relate keeps each article's features in its candidate index by design, so it may
        grow with the articles stored, by at most 256 KiB each: buffering the backlog, or
        anything else that grows with load rather than with the corpus, would show."""
        for name, series in self.samples.items():
            assert len(series) >= 20, f"{name}: only {len(series)} memory samples"
            half = len(series) // 2
            first, second = series[:half], series[half:]
            first_peak = max(rss for _, rss in first)
            second_peak = max(rss for _, rss in second)
            print(
                f"memory {name}: first half peak {first_peak / MIB:.0f} MiB, "
                f"second half peak {second_peak / MIB:.0f} MiB, "
                f"{series[0][0]} -> {series[-1][0]} articles stored",
                flush=True,
            )
            if name == "relate":
                articles = max(1, series[-1][0] - series[0][0])
                per_article = (second_peak - first[0][1]) / articles
                assert per_article <= 256 * 1024, (
                    f"relate grew {per_article / 1024:.0f} KiB an article"
                )
            else:
                assert second_peak <= first_peak * 1.15 + 32 * MIB, (name, first_peak, second_peak)


MIB = 1024 * 1024


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

    # From here the services work through the backlog at full speed for minutes: the
    # sustained load under which their memory must stay bounded.
    memory = MemorySampler(pipeline)
    memory.start()

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

        # Progress by _id lookups of the articles not seen yet: cheap on any store, unlike a
        # scan of the whole collection every few seconds, which would load the store itself.
        unseen = set(expected)

        async def all_stored() -> bool:
            with contextlib.suppress(Exception):  # the store may still be coming back
                for identifier in list(unseen):
                    if await collection.find_one({"_id": identifier}, {"_id": 1}) is not None:
                        unseen.discard(identifier)
            memory.stored = len(expected) - len(unseen)
            print(f"stored {memory.stored} of {len(expected)}", flush=True)
            return not unseen

        await eventually(
            all_stored, timeout=900, interval=5, what="every submitted article to be stored"
        )
        # Then every document of this run, whatever its id: a duplicate would be here too.
        documents = {
            d["_id"]: d async for d in collection.find({"url": {"$regex": "/faults/"}}, projection)
        }
    finally:
        await mongo.close()
        await memory.stop()
    memory.assert_bounded()

    # Exactly once: one document per URL, first version only (a repeat never made a version 2).
    urls = [d["url"] for d in documents.values()]
    assert len(urls) == len(set(urls)) == len(expected)
    # Enriched: stored with what enrich found for it (a short item may have no entities).
    enriched = await all_enriched(pipeline)
    entities = {a.id: [e.name for e in a.entities] for a in enriched}
    for identifier, document in documents.items():
        assert document["url"] == canonicalize_url(expected[identifier])
        assert document["version"] == 1, identifier
        assert document["language"] == "en"
        assert document["word_count"] > 0
        assert [e["name"] for e in document["entities"]] == entities[identifier], identifier
        assert document["story_id"], identifier
    assert sum(bool(d["entities"]) for d in documents.values()) >= 0.95 * len(documents)

    # Related as one relation engine relates the same articles: faults changed nothing.
    reference = relations_by_one_engine(enriched, list(expected))

    unsettled = set(expected)

    async def relations_settled() -> bool:
        # Only those not yet as the reference has them: a settled article stays settled,
        # since every later refresh recomputes from an index that has every article.
        stored = await stored_relations(pipeline, sorted(unsettled))
        unsettled.difference_update(i for i in stored if stored[i] == reference[i])
        print(
            f"relations settled for {len(expected) - len(unsettled)} of {len(expected)}", flush=True
        )
        return not unsettled

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
