"""The index reader against the real broker: every enriched article, from every partition,
in this instance's index, and ``catch_up`` as quick as the broker allows."""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from newswire_contracts import ArticleEnriched, article_id, cloudevents
from newswire_platform import ServiceSettings
from newswire_relate.domain.relator import Relator
from newswire_relate.index_reader import IndexReader

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def enriched(n: int) -> ArticleEnriched:
    url = f"https://news.example/index-reader/{n}"
    return ArticleEnriched(
        id=article_id(url),
        url=url,
        source="news.example",
        title=f"Harbour crane number {n} delivered to Rotterdam",
        text=f"The port of Rotterdam took delivery of harbour crane {n} on Monday.",
        published_at=NOW,
        ingested_at=NOW,
        content_hash=f"{n:064x}",
        version=1,
        enriched_at=NOW,
        language="en",
        word_count=12,
    )


async def test_catch_up_indexes_every_partition_and_returns_promptly(
    infrastructure, namespace
) -> None:  # type: ignore[no-untyped-def]
    bootstrap = infrastructure.kafka_bootstrap_servers
    topic = namespace.topic("index-reader.articles.enriched")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()

    async def publish(n: int) -> None:
        encoded = cloudevents.encode(enriched(n), source="test")
        await producer.send_and_wait(topic, encoded.value, key=encoded.key, headers=encoded.headers)

    relator = Relator()
    settings = ServiceSettings(
        kafka_bootstrap_servers=bootstrap, kafka_max_message_bytes=1024 * 1024
    )
    reader = IndexReader(settings, topic, relator)
    try:
        for n in range(6):
            await publish(n)
        await reader.start()
        await reader.catch_up(timeout=30)
        assert all(relator.knows(enriched(n).id) for n in range(6))

        # Once the start-up replay is in, the index is out of the collector's full passes.
        async with asyncio.timeout(30):
            await reader.ready.wait()
        assert gc.get_freeze_count() > 0
        assert not any(tracked is relator for tracked in gc.get_objects())

        # What arrives while it runs is in the index once catch_up returns.
        await publish(6)
        await reader.catch_up(timeout=30)
        assert relator.knows(enriched(6).id)

        # With nothing new, catch_up is one round trip, not a wait behind the reader's
        # long-polling fetch (500 ms): relate calls it before every message it handles.
        waits = []
        for _ in range(7):
            started = time.perf_counter()
            await reader.catch_up(timeout=30)
            waits.append(time.perf_counter() - started)
        assert statistics.median(waits) < 0.2, waits
    finally:
        gc.unfreeze()
        await reader.stop()
        await producer.stop()
