"""The downstream-consumer examples in examples/, run against the real broker."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from newswire_contracts import (
    ArticleRelated,
    RelatedArticle,
    article_id,
    canonicalize_url,
    cloudevents,
    topics,
)

from tests.support import eventually, produce_raw

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SOURCE = "urn:newswire:test:examples"


def load_example(name: str) -> ModuleType:
    """Import examples/<name>.py by path (examples/ is not a package)."""
    module_name = f"newswire_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


async def create_topic(bootstrap: str, name: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()


def _related_article(url: str, title: str, source: str, score: float) -> RelatedArticle:
    canonical = canonicalize_url(url)
    return RelatedArticle(
        id=article_id(canonical),
        title=title,
        url=canonical,
        source=source,
        published_at=datetime(2025, 3, 4, 8, 30, tzinfo=UTC),
        score=score,
        shared_entities=("European Central Bank", "Christine Lagarde"),
    )


def sample_events() -> list[ArticleRelated]:
    now = datetime.now(UTC)
    first_url = canonicalize_url(
        "https://www.example-news.com/economy/ecb-cuts-rates?utm_source=rss"
    )
    second_url = canonicalize_url("https://daily.example.org/markets/2025/03/ecb-decision/")
    return [
        ArticleRelated(
            id=article_id(first_url),
            version=1,
            story_id="ecb-rate-cut-2025-03",
            related=(
                _related_article(
                    "https://daily.example.org/markets/2025/03/ecb-decision/",
                    "ECB lowers rates for a sixth time",
                    "Daily Example",
                    0.82,
                ),
                _related_article(
                    "https://wire.example.net/world/lagarde-press-conference#live",
                    "Lagarde: inflation is on track",
                    "Example Wire",
                    0.41,
                ),
            ),
            updated_at=now - timedelta(seconds=5),
        ),
        ArticleRelated(
            id=article_id(second_url),
            version=2,
            story_id="ecb-rate-cut-2025-03",
            related=(
                _related_article(
                    "https://www.example-news.com/economy/ecb-cuts-rates",
                    "ECB cuts rates again",
                    "Example News",
                    0.82,
                ),
            ),
            updated_at=now,
        ),
    ]


def malformed_message(valid: ArticleRelated) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Correct CloudEvents headers, but a body that is not an ArticleRelated."""
    encoded = cloudevents.encode(valid, source=SOURCE)
    body = json.loads(encoded.value)
    body["id"] = "not-an-article-id"
    body["version"] = "2"  # a string where the contract wants an int
    return json.dumps(body).encode(), encoded.headers


async def publish_scenario(bootstrap: str, topic: str) -> list[ArticleRelated]:
    """Publish: a malformed message, then two valid events. Returns the valid ones, in order."""
    events = sample_events()
    bad_value, bad_headers = malformed_message(events[0])
    await produce_raw(
        bootstrap, topic, bad_value, key=events[0].key().encode(), headers=bad_headers
    )
    for event in events:
        encoded = cloudevents.encode(event, source=SOURCE)
        assert encoded.topic == topics.ARTICLES_RELATED
        await produce_raw(bootstrap, topic, encoded.value, key=encoded.key, headers=encoded.headers)
    return events


def summary(
    events: list[ArticleRelated],
) -> list[tuple[str, int, str | None, list[tuple[str, float]]]]:
    return [(e.id, e.version, e.story_id, [(r.id, r.score) for r in e.related]) for e in events]


async def committed_offset(bootstrap: str, topic: str, group: str) -> int | None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(topic, 0))
    finally:
        await consumer.stop()


def unique_topic(namespace: Any) -> str:
    return namespace.topic(f"examples-{uuid.uuid4().hex[:8]}.{topics.ARTICLES_RELATED}")


async def test_faststream_example_delivers_the_published_events(
    infrastructure: Any, namespace: Any, caplog: pytest.LogCaptureFixture
) -> None:
    example = load_example("consume_related_faststream")
    bootstrap = infrastructure.kafka_bootstrap_servers
    topic = unique_topic(namespace)
    group = f"{namespace.name}-example-faststream"
    await create_topic(bootstrap, topic)
    published = await publish_scenario(bootstrap, topic)

    received: list[ArticleRelated] = []

    async def on_related(related: ArticleRelated) -> None:
        received.append(related)

    broker = example.build_broker(bootstrap, topic, group, on_related)
    caplog.set_level("WARNING", logger="newswire.example.faststream")
    async with broker:
        await broker.start()

        async def two_seen() -> bool:
            return len(received) >= 2

        await eventually(two_seen, timeout=60, what="the FastStream example to handle 2 events")

        # The malformed message came first; the offset moves past all three.
        async def all_committed() -> bool:
            return await committed_offset(bootstrap, topic, group) == 3

        await eventually(all_committed, timeout=30, what="offset 3 committed")

    assert all(isinstance(event, ArticleRelated) for event in received)
    assert received == published
    assert summary(received) == summary(published)
    assert received[0].related[0].id == published[1].id  # the two articles relate to each other
    skipped = [r for r in caplog.records if r.name == "newswire.example.faststream"]
    assert [r.levelname for r in skipped] == ["WARNING"]
    assert "invalid ArticleRelated" in skipped[0].getMessage()


async def test_aiokafka_example_skips_the_malformed_message(
    infrastructure: Any, namespace: Any, caplog: pytest.LogCaptureFixture
) -> None:
    example = load_example("consume_related_aiokafka")
    bootstrap = infrastructure.kafka_bootstrap_servers
    topic = unique_topic(namespace)
    group = f"{namespace.name}-example-aiokafka"
    await create_topic(bootstrap, topic)
    published = await publish_scenario(bootstrap, topic)

    received: list[ArticleRelated] = []

    async def handle(related: ArticleRelated) -> None:
        received.append(related)

    with caplog.at_level("WARNING", logger="newswire.example.aiokafka"):
        handled = await asyncio.wait_for(
            example.consume(bootstrap, topic, group, handle, max_messages=3), timeout=60
        )

    assert handled == 2
    assert received == published
    assert summary(received) == summary(published)
    skipped = [r for r in caplog.records if r.name == "newswire.example.aiokafka"]
    assert len(skipped) == 1
    assert "skipping" in skipped[0].getMessage()
    assert "invalid ArticleRelated" in skipped[0].getMessage()
    # Committed by hand after each message, the skipped one included.
    assert await committed_offset(bootstrap, topic, group) == 3
