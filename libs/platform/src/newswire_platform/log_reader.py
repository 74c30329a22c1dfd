"""Reading Kafka logs outside the consumer groups, up to their end or forever.

For what every instance must see whole (relate's index, the gateway's live stream) and for
the operators' tools (dead letters, consumer lag): given partitions, from given offsets.
Fetches are bounded by the largest message; a failed fetch is retried with the platform's
backoff for as long as it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Iterable, Mapping
from typing import Any, Literal, NamedTuple, Self

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from . import clients
from .settings import ServiceSettings

__all__ = ["LogReader"]

log = logging.getLogger(__name__)


class _Clients(NamedTuple):
    fetcher: AIOKafkaConsumer
    offsets: AIOKafkaConsumer
    admin: AIOKafkaAdminClient


class LogReader:
    """Reads partitions without joining a consumer group (every reader sees every record).

    With ``group_id`` it can start at, and ``commit``, the group's offsets: the group then
    keeps the reader's progress and shares nothing out. One ``read`` at a time. Offsets and
    metadata are asked on connections of their own: a broker answers a connection's
    requests in order, so on the reading one they would wait behind its long-polling fetch.
    """

    def __init__(
        self, settings: ServiceSettings, role: str | None = None, *, group_id: str | None = None
    ) -> None:
        self._settings = settings
        self._role = role
        self._group = group_id
        self._clients: _Clients | None = None

    async def start(self) -> None:
        settings, role = self._settings, self._role
        self._clients = _Clients(
            fetcher=clients.consumer(settings, role, group_id=self._group),
            offsets=clients.consumer(settings, role),
            admin=clients.admin_client(settings, role),
        )
        for client in self._clients:
            await client.start()

    async def stop(self) -> None:
        for client in self._clients or ():
            # Closing what may never have started (a failed start) must not hide why.
            with contextlib.suppress(Exception):
                await (client.stop() if isinstance(client, AIOKafkaConsumer) else client.close())

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def _started(self) -> _Clients:
        assert self._clients is not None, "start() first"
        return self._clients

    async def topics(self, names: Iterable[str] | None = None) -> dict[str, set[int]]:
        """The topics that exist, of ``names`` or all, with their partitions (only a request
        for all topics is sure never to create one, on brokers that auto-create)."""
        described = await self._started.admin.describe_topics(list(names) if names else None)
        return {
            t["topic"]: {p["partition"] for p in t["partitions"]}
            for t in described
            if not t.get("error_code")
        }

    async def partitions(self, *topics: str, timeout: float = 60.0) -> list[TopicPartition]:
        """Every partition of ``topics``, waiting for a topic just created to have them."""
        deadline = time.monotonic() + timeout
        attempt = 0
        while True:
            found = await self.topics(topics)
            missing = [topic for topic in topics if not found.get(topic)]
            if not missing:
                return sorted(TopicPartition(t, p) for t in topics for p in found[t])
            if time.monotonic() > deadline:
                raise KafkaError(f"no partitions for {', '.join(missing)} after {timeout:.0f}s")
            attempt += 1
            await asyncio.sleep(self._settings.retry_delay(attempt))

    async def beginnings(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return await self._started.offsets.beginning_offsets(list(partitions))

    async def ends(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return await self._started.offsets.end_offsets(list(partitions))

    async def committed(
        self, group: str, partitions: Iterable[TopicPartition] | None = None
    ) -> dict[TopicPartition, OffsetAndMetadata]:
        """The group's committed offsets (with their metadata): of ``partitions``, or all."""
        wanted = list(partitions) if partitions is not None else None
        return await self._started.admin.list_consumer_group_offsets(group, partitions=wanted)

    async def read(
        self,
        partitions: Iterable[TopicPartition],
        *,
        start: Literal["beginning", "committed"] | Mapping[TopicPartition, int | None] = (
            "beginning"
        ),
        stop: Mapping[TopicPartition, int] | None = None,
        follow: bool = False,
        idle_timeout: float | None = None,
    ) -> AsyncGenerator[list[ConsumerRecord[Any, Any]], None]:
        """The records of ``partitions`` in batches, each of one partition in offset order
        (close the iterator, e.g. with ``contextlib.aclosing``, before stopping the reader).

        From ``start``: the beginning of each log, the group's committed offsets, or given
        ones (an offset before the log's beginning, or None, is the beginning). Up to the
        end offsets as of the call, or before ``stop`` where that is sooner; with
        ``follow``, forever. ``idle_timeout``: raise TimeoutError when nothing arrives for
        that long though the end is not reached.
        """
        consumer = self._started.fetcher
        wanted = sorted(set(partitions))
        if start == "committed":
            assert self._group is not None, "reading from committed offsets needs a group_id"
            start = {
                tp: at.offset for tp, at in (await self.committed(self._group, wanted)).items()
            }
        given = {} if isinstance(start, str) else start
        first = await self.beginnings(wanted)
        begin = {tp: max(first[tp], given.get(tp) or 0) for tp in wanted}
        until = None
        if not follow:
            ends = await self.ends(wanted)
            until = {tp: min(ends[tp], (stop or {}).get(tp, ends[tp])) for tp in wanted}
        remaining = {tp for tp in wanted if until is None or begin[tp] < until[tp]}
        if not remaining:
            return
        if self._group is not None:
            # Find the group's coordinator before assigning: aiokafka's coordination task
            # dies for good (AssertionError) when an assignment changes while it is still
            # looking for one, as on a broker that has just created its offsets topic.
            await consumer.committed(min(remaining))
        consumer.assign(sorted(remaining))
        for tp in remaining:
            consumer.seek(tp, begin[tp])
        failures = 0
        idle_since = time.monotonic()
        try:
            while remaining:
                try:
                    fetched = await consumer.getmany(*remaining, timeout_ms=500, max_records=500)
                    failures = 0
                except KafkaError as exc:
                    failures += 1
                    wait = self._settings.retry_delay(failures)
                    log.warning(
                        "log read failed; retrying", extra={"error": repr(exc), "retry_in_s": wait}
                    )
                    await asyncio.sleep(wait)
                    fetched = {}
                for tp, records in sorted(fetched.items()):
                    batch = [r for r in records if until is None or r.offset < until[tp]]
                    if batch:
                        yield batch
                if fetched:
                    idle_since = time.monotonic()
                if until is None:
                    continue
                for tp in list(remaining):
                    # The position, not the last record: the log may end in offsets that
                    # hold no record (transaction markers, compacted records).
                    if await consumer.position(tp) >= until[tp]:
                        remaining.discard(tp)
                        consumer.pause(tp)
                if remaining and idle_timeout and time.monotonic() - idle_since > idle_timeout:
                    stuck = ", ".join(f"{tp.topic}:{tp.partition}" for tp in sorted(remaining))
                    raise TimeoutError(f"no records from {stuck} for {idle_timeout:.0f}s")
        finally:
            # Paused rather than unassigned: the next read assigns its own partitions, and an
            # unassigned consumer stopped at that moment can hang in aiokafka's fetcher.
            consumer.pause(*consumer.assignment())

    async def commit(self, offsets: Mapping[TopicPartition, tuple[int, str]]) -> None:
        """Commit ``(offset, metadata)`` for partitions being read, as ``group_id``."""
        await self._started.fetcher.commit(dict(offsets))
