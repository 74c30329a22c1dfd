"""The log reader against the real broker: from the beginning, given or committed offsets, to
the end as of the call or forever."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any, ClassVar

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from newswire_platform import LogReader, ServiceSettings, ensure_topics

pytestmark = pytest.mark.integration


class ReaderSettings(ServiceSettings):
    service_name: ClassVar[str] = "log-reader-test"


async def offsets_read(reader: LogReader, partitions: Any, **where: Any) -> list[tuple[int, int]]:
    read = []
    async with aclosing(reader.read(partitions, **where)) as batches:
        async for batch in batches:
            assert len({record.partition for record in batch}) == 1
            read += [(record.partition, record.offset) for record in batch]
    return read


async def test_reads_to_the_end_from_where_it_is_told_and_follows(
    infrastructure: Any, namespace: Any
) -> None:
    settings = ReaderSettings(
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        topic_prefix=namespace.topic_prefix,
        topic_partitions=2,
    )
    await ensure_topics(settings, ["log-reader"])
    topic = settings.topic("log-reader")
    p0, p1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_list)
    await producer.start()
    group = f"{namespace.topic_prefix}log-reader"
    try:
        for n in range(5):
            await producer.send_and_wait(topic, b"%d" % n, partition=n % 2)
        async with LogReader(settings, group_id=group) as reader:
            assert await reader.partitions(topic) == [p0, p1]
            everything = await offsets_read(reader, [p0, p1])
            assert sorted(everything) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]
            assert [o for p, o in everything if p == 0] == [0, 1, 2]
            assert await offsets_read(reader, [p0, p1], start={p0: 1}, stop={p0: 2, p1: 0}) == [
                (0, 1)
            ]

            async with aclosing(reader.read([p0], start={p0: 2})) as batches:
                async for batch in batches:
                    await reader.commit({p0: (batch[-1].offset, "noted")})
            assert (await reader.committed(group, [p0]))[p0].metadata == "noted"
            # Where the group committed, else from the beginning.
            committed = await offsets_read(reader, [p0, p1], start="committed")
            assert sorted(committed) == [(0, 2), (1, 0), (1, 1)]

            async with aclosing(reader.read([p1], start={p1: 2}, follow=True)) as batches:
                await producer.send_and_wait(topic, b"later", partition=1)
                async with asyncio.timeout(30):
                    batch = await anext(batches)
            assert [(r.offset, r.value) for r in batch] == [(2, b"later")]
    finally:
        await producer.stop()
