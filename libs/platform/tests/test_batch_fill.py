"""A batch subscriber told to fill its batches, against the real broker: the broker holds the
fetch until a batch's worth of bytes has come, so messages that arrive apart are handled
together; without it, the first is handled as soon as it arrives."""

from __future__ import annotations

import asyncio
import os
from typing import Any, ClassVar

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaMessage
from newswire_contracts import ArticleIngested, topics
from newswire_platform import (
    BatchFill,
    ServiceSettings,
    batch_event_subscriber,
    consumer_parts,
    ensure_topics,
)

from tests.support import eventually

pytestmark = pytest.mark.integration

MESSAGE_BYTES = 8 * 1024


class FillSettings(ServiceSettings):
    service_name: ClassVar[str] = "fill-probe"


async def first_batch(infrastructure: Any, namespace: Any, fill: BatchFill | None) -> list[int]:
    """Offsets of the first batch handled, of two messages sent a second apart."""
    settings = FillSettings(
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        topic_prefix=f"{namespace.topic_prefix}fill-{fill is not None}.",
        topic_partitions=1,
    )
    await ensure_topics(settings, [topics.ARTICLES_INGESTED])
    parts = consumer_parts(settings, dead_letter_topic=topics.ENRICH_DLQ, publishes={})
    batches: list[list[int]] = []

    @batch_event_subscriber(
        parts.broker, settings, ArticleIngested, description="probe", max_records=10, fill=fill
    )
    async def handle(message: KafkaMessage) -> None:
        batches.append([record.offset for record in message.raw_message])

    await parts.broker.start()
    # Uncompressed, random bytes: their size on the wire is what the broker counts.
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_list)
    await producer.start()
    try:
        consumer = parts.broker.subscribers[0].consumer

        async def assigned() -> bool:
            return bool(consumer.assignment())

        await eventually(assigned, timeout=30, what="partition assigned")
        topic = settings.topic(topics.ARTICLES_INGESTED)
        await producer.send_and_wait(topic, os.urandom(MESSAGE_BYTES), partition=0)
        await asyncio.sleep(1.0)
        await producer.send_and_wait(topic, os.urandom(MESSAGE_BYTES), partition=0)

        async def both_handled() -> bool:
            return sum(map(len, batches)) == 2

        await eventually(both_handled, timeout=30, what="both messages handled")
        return batches[0]
    finally:
        await producer.stop()
        await parts.broker.stop()


async def test_a_filling_subscriber_handles_messages_that_came_apart_together(
    infrastructure: Any, namespace: Any
) -> None:
    # More than one message and less than two: only the second ends the broker's wait.
    fill = BatchFill(wait_ms=10_000, min_bytes=MESSAGE_BYTES * 3 // 2)
    assert await first_batch(infrastructure, namespace, fill) == [0, 1]


async def test_without_fill_the_first_message_is_handled_on_its_own(
    infrastructure: Any, namespace: Any
) -> None:
    assert await first_batch(infrastructure, namespace, None) == [0]


async def test_a_fill_of_no_wait_is_no_fill() -> None:
    settings = FillSettings()
    parts = consumer_parts(settings, dead_letter_topic=topics.ENRICH_DLQ, publishes={})

    @batch_event_subscriber(
        parts.broker,
        settings,
        ArticleIngested,
        description="probe",
        max_records=10,
        fill=BatchFill(wait_ms=0, min_bytes=1 << 20),
    )
    async def handle(message: KafkaMessage) -> None: ...

    # FastStream keeps the consumer's arguments until it starts; none other is public.
    arguments = parts.broker.subscribers[0]._connection_args
    assert arguments["fetch_min_bytes"] == 1
    assert arguments["fetch_max_wait_ms"] == settings.kafka_fetch_max_wait_ms
