"""Refresh requests done where they would land, checked against the real broker: the
partition ``RefreshOwnership`` expects for a key is the one the service's producer picks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from newswire_platform import EventPublisher, ServiceSettings, create_broker
from newswire_relate.refresh import REFRESH_TOPIC, RefreshOwnership, RelateRefresh

pytestmark = pytest.mark.integration

PARTITIONS = 6


async def test_an_owned_key_is_one_the_producer_sends_to_an_owned_partition(
    infrastructure, namespace
) -> None:  # type: ignore[no-untyped-def]
    settings = ServiceSettings(
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        topic_prefix=f"{namespace.topic_prefix}routing.",
    )
    topic = settings.topic(REFRESH_TOPIC)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()
    ids = [f"{n * 7919:032x}" for n in range(60)]
    broker = create_broker(settings)
    await broker.connect()
    try:
        publisher = EventPublisher(broker, settings)
        for identifier in ids:
            await publisher.publish(
                RelateRefresh(kind="article", id=identifier, requested_at=datetime.now(UTC))
            )
    finally:
        await broker.stop()

    landed: dict[str, int] = {}
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while len(landed) < len(ids):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                landed.update({r.key.decode(): r.partition for r in records})
    finally:
        await consumer.stop()
    assert len(set(landed.values())) > 1, "the keys spread over partitions"

    for mine in range(PARTITIONS):
        owner = RefreshOwnership(topic)
        owner.set_partition_count(PARTITIONS)
        await owner.on_partitions_assigned({TopicPartition(topic, mine)})
        assert {i for i in ids if owner.owns(i)} == {i for i in ids if landed[i] == mine}
