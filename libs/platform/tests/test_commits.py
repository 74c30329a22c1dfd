"""Offsets committed on an interval, against the real broker: handled messages are
committed within the interval, never before they are handled, and at once on shutdown."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaMessage, KafkaRouter
from newswire_contracts import ArticleIngested, topics
from newswire_platform import ServiceSettings, batch_event_subscriber, consumer_parts, ensure_topics
from newswire_platform.kafka import _group_member

from tests.support import eventually

pytestmark = pytest.mark.integration


class CommitSettings(ServiceSettings):
    service_name: ClassVar[str] = "commit-probe"


async def committed(settings: ServiceSettings, tp: TopicPartition) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_list)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(settings.consumer_group, partitions=[tp])
    finally:
        await admin.close()
    return offsets[tp].offset if offsets.get(tp) else -1


async def run_consumer(
    infrastructure: Any, namespace: Any, interval_ms: int, name: str, *, batch: bool = True
) -> tuple[CommitSettings, Any, Any, asyncio.Event, list[int]]:
    settings = CommitSettings(
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        topic_prefix=f"{namespace.topic_prefix}{name}.",
        topic_partitions=1,
        kafka_commit_interval_ms=interval_ms,
    )
    await ensure_topics(settings, [topics.ARTICLES_INGESTED])
    parts = consumer_parts(settings, dead_letter_topic=topics.ENRICH_DLQ, publishes={})
    seen: list[int] = []
    gate = asyncio.Event()
    gate.set()

    if batch:

        @batch_event_subscriber(
            parts.broker, settings, ArticleIngested, description="probe", max_records=10
        )
        async def handle(message: KafkaMessage) -> None:
            await gate.wait()
            seen.extend(record.offset for record in message.raw_message)

    else:
        router = KafkaRouter()

        @router.subscriber(
            settings.topic(topics.ARTICLES_INGESTED), **_group_member(settings, ArticleIngested, "")
        )
        async def handle(body: bytes, message: KafkaMessage) -> None:
            await gate.wait()
            record = message.raw_message
            assert isinstance(record, ConsumerRecord)
            seen.append(record.offset)

        parts.broker.include_router(router)

    await parts.broker.start()
    return settings, parts, handle, gate, seen


async def publish(settings: ServiceSettings, count: int) -> TopicPartition:
    topic = settings.topic(topics.ARTICLES_INGESTED)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_list)
    await producer.start()
    try:
        for n in range(count):
            await producer.send_and_wait(topic, b"not an event %d" % n, partition=0)
    finally:
        await producer.stop()
    return TopicPartition(topic, 0)


@pytest.mark.parametrize("batch", [True, False], ids=["batches", "one-by-one"])
async def test_handled_offsets_are_committed_within_the_interval(
    infrastructure: Any, namespace: Any, batch: bool
) -> None:
    settings, parts, _, _, seen = await run_consumer(
        infrastructure, namespace, 1500, f"interval-{batch}", batch=batch
    )
    try:
        tp = await publish(settings, 5)

        async def all_seen() -> bool:
            return len(seen) == 5

        await eventually(all_seen, timeout=30, what="all seen")
        # Handled, not committed yet: one commit for the interval, not one per batch.
        assert await committed(settings, tp) < 5

        async def all_committed() -> bool:
            return await committed(settings, tp) == 5

        await eventually(all_committed, timeout=10, what="all committed")
    finally:
        await parts.broker.stop()


async def test_nothing_is_committed_before_it_is_handled_and_shutdown_commits_the_rest(
    infrastructure: Any, namespace: Any
) -> None:
    settings, parts, _, gate, seen = await run_consumer(infrastructure, namespace, 60_000, "close")
    try:
        tp = await publish(settings, 3)

        async def three_seen() -> bool:
            return len(seen) == 3

        await eventually(three_seen, timeout=30, what="three seen")
        gate.clear()  # the next batch is held inside the handler
        await publish(settings, 2)
        await asyncio.sleep(1.0)
        assert len(seen) == 3
        # Shutdown: what was handled is committed at once, the held batch is not.
        await parts.commits.close()
        assert await committed(settings, tp) == 3
        gate.set()

        async def five_seen() -> bool:
            return len(seen) == 5

        await eventually(five_seen, timeout=30, what="five seen")

        async def five_committed() -> bool:
            return await committed(settings, tp) == 5

        # After close, a handled batch is committed as FastStream acknowledges it.
        await eventually(five_committed, timeout=10, what="five committed")
    finally:
        await parts.broker.stop()


async def test_work_due_before_a_commit_runs_first_and_while_it_fails_nothing_is_committed(
    infrastructure: Any, namespace: Any
) -> None:
    settings, parts, _, _, seen = await run_consumer(infrastructure, namespace, 300, "before")
    tp = TopicPartition(settings.topic(topics.ARTICLES_INGESTED), 0)
    failing = True
    runs: list[tuple[int, bool]] = []  # (committed when it ran, whether it failed)

    async def work() -> None:
        runs.append((await committed(settings, tp), failing))
        if failing:
            raise RuntimeError("the store went away")

    parts.commits.before_commit(work)
    try:
        await publish(settings, 3)

        async def three_seen() -> bool:
            return len(seen) == 3

        await eventually(three_seen, timeout=30, what="three seen")

        async def tried_twice() -> bool:
            return len(runs) >= 2

        await eventually(tried_twice, timeout=10, what="the work tried again")
        assert await committed(settings, tp) == -1, "nothing committed while the work fails"
        failing = False

        async def all_committed() -> bool:
            return await committed(settings, tp) == 3

        await eventually(all_committed, timeout=10, what="all committed")
        first_success = next(at for at, failed in runs if not failed)
        assert first_success == -1, "the work is done before the offsets are committed"
    finally:
        await parts.broker.stop()
