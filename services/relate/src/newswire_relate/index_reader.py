"""Feeds every enriched article, from every partition, into this instance's Relator.

Outside the consumer group: each relate instance reads the whole of ``articles.enriched``
from the beginning, so each holds the complete candidate index and relation graph (the
state survives a restart by being rebuilt from Kafka, the durable log). The group only
divides who writes what.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from newswire_contracts import ArticleEnriched, InvalidEventError, cloudevents
from newswire_platform import LogReader, ServiceSettings

from .domain.relator import Relator

__all__ = ["IndexReader", "settle_index"]

log = logging.getLogger(__name__)

_YIELD_EVERY = 20  # articles between yields to the event loop while catching up


def settle_index() -> None:
    """Take everything built so far (the replayed index above all) out of the garbage
    collector's full passes.

    The index is millions of small, long-lived objects that hold no reference cycles worth
    finding; left in the collected generations, every full pass walks them all, pausing the
    handlers for about a second at a million articles (and the mean cost per article grew with
    the corpus by that alone). Objects created afterwards are collected as usual.
    """
    gc.collect()
    gc.freeze()


class IndexReader:
    def __init__(self, settings: ServiceSettings, topic: str, relator: Relator) -> None:
        self._topic = topic
        self.relator = relator
        self._reader = LogReader(settings, "index")
        self._partitions: list[TopicPartition] = []
        self._task: asyncio.Task[None] | None = None
        self.positions: dict[int, int] = {}
        self._progress = asyncio.Condition()
        self.ready = asyncio.Event()
        """Set once the index has caught up with the topic as it was at start-up."""
        self._ends_at_start: dict[int, int] = {}
        self._settling = asyncio.Lock()

    async def start(self) -> None:
        await self._reader.start()
        self._partitions = await self._reader.partitions(self._topic)
        ends = await self._reader.ends(self._partitions)
        self._ends_at_start = {tp.partition: end for tp, end in ends.items()}
        self.positions = {tp.partition: 0 for tp in self._partitions}
        self._task = asyncio.create_task(self._run(), name="relate-index-reader")
        asyncio.create_task(self._mark_ready(), name="relate-index-ready")  # noqa: RUF006

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._reader.stop()

    async def partition_count(self, topic: str) -> int:
        return len(await self._reader.partitions(topic))

    def indexed_at_start(self, partition: int, offset: int) -> bool:
        """Whether this record was in the topic when the reader started, hence indexed in the
        start-up replay, in an order across partitions that may differ from the order in
        which the articles were first handled."""
        return offset < self._ends_at_start.get(partition, 0)

    async def catch_up(self, timeout: float = 120.0) -> None:
        """Until everything in the topic right now is in the index."""
        ends = await self._reader.ends(self._partitions)
        async with asyncio.timeout(timeout), self._progress:
            await self._progress.wait_for(
                lambda: all(self.positions.get(tp.partition, 0) >= end for tp, end in ends.items())
            )

    async def settle_stories(self) -> None:
        """Place the articles indexed so far in their stories, a step at a time, letting the
        event loop run between steps (heartbeats, the reader itself)."""
        async with self._settling:
            for _ in self.relator.settle_in_steps():
                await asyncio.sleep(0)

    async def _mark_ready(self) -> None:
        started = time.monotonic()
        while True:
            try:
                await self.catch_up(timeout=3600)
                break
            except (TimeoutError, KafkaError):
                log.warning("index not caught up yet")
        await self.settle_stories()
        settle_index()
        self.ready.set()
        log.info(
            "index caught up",
            extra={"articles": len(self.relator), "seconds": round(time.monotonic() - started, 1)},
        )

    async def _run(self) -> None:
        async with contextlib.aclosing(self._reader.read(self._partitions, follow=True)) as batches:
            async for records in batches:
                for n, record in enumerate(records, start=1):
                    self._index(record)
                    async with self._progress:
                        self.positions[record.partition] = record.offset + 1
                        self._progress.notify_all()
                    if n % _YIELD_EVERY == 0:
                        await asyncio.sleep(0)

    def _index(self, record: object) -> None:
        try:
            article, _ = cloudevents.decode(ArticleEnriched, record.headers or (), record.value)  # type: ignore[attr-defined]
        except InvalidEventError:
            return  # the owner dead-letters it
        try:
            # Stories are placed when next read, the whole start-up replay in one pass in
            # key order (the partitions' interleaving would make many arrivals late).
            self.relator.add(article, defer_stories=True)
        except Exception:
            # One article must not stop the index; its owner will fail on it too and say why.
            log.exception("article not indexed", extra={"article_id": article.id})
