"""The live feed behind GET /v1/stream: articles.related and stories.updated, fanned out.

One Kafka consumer per gateway (outside any group: every gateway sees every event) feeds
an in-memory buffer and a bounded queue per connected client, so an idle client costs a
queue and a sleeping coroutine. Each event's SSE id is the position of the whole feed at
that event (the offset reached in every partition of both topics), so a client that comes
back with ``Last-Event-ID`` gets, from any gateway, the buffered events it had not seen; if
they are no longer buffered it gets a ``reset`` event and should reload.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition
from newswire_contracts import ArticleRelated, InvalidEventError, StoryUpdated, cloudevents
from newswire_platform import LogReader, ServiceSettings

__all__ = ["LiveEvent", "LiveFeed", "Subscription"]

_CODES: dict[str, type[ArticleRelated | StoryUpdated]] = {"r": ArticleRelated, "s": StoryUpdated}


@dataclass(frozen=True, slots=True)
class LiveEvent:
    kind: str
    """"article" or "story"."""
    subject: str
    """The article or story id."""
    data: dict[str, Any]
    id: str
    """The feed position after this event (the SSE event id)."""
    position: tuple[str, int, int]


@dataclass(eq=False)  # compared and hashed by identity: one per connection
class Subscription:
    queue: asyncio.Queue[LiveEvent | None]
    article: str | None = None
    story: str | None = None

    def wants(self, event: LiveEvent) -> bool:
        if self.article is not None:
            return event.kind == "article" and event.subject == self.article
        if self.story is not None:
            return event.kind == "story" and event.subject == self.story
        return True


_Offsets = dict[tuple[str, int], int]
"""The offset reached in each (topic code, partition)."""


def _encode(offsets: _Offsets) -> str:
    return ".".join(
        f"{code}{partition}-{offset}" for (code, partition), offset in sorted(offsets.items())
    )


def _decode(text: str) -> _Offsets | None:
    try:
        entries = {}
        for item in text.split("."):
            head, offset = item.split("-")
            entries[(head[0], int(head[1:]))] = int(offset)
        return entries if all(code in _CODES for code, _ in entries) else None
    except ValueError:
        return None


class LiveFeed:
    def __init__(
        self,
        settings: ServiceSettings,
        topics: dict[str, str],
        *,
        buffer_size: int = 10_000,
        queue_size: int = 1_000,
        listeners: Iterable[Callable[[LiveEvent], None]] = (),
    ) -> None:
        """``topics`` maps "r" and "s" to the deployed names of articles.related and
        stories.updated; ``listeners`` see every event first (e.g. to drop cached copies)."""
        self._topics = topics
        self._codes = {name: code for code, name in topics.items()}
        self._buffer: deque[LiveEvent] = deque(maxlen=buffer_size)
        self._queue_size = queue_size
        self._listeners = tuple(listeners)
        self._offsets: _Offsets = {}
        self._subscriptions: set[Subscription] = set()
        self._reader = LogReader(settings, "live")
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        reader = self._reader
        await reader.start()
        partitions = await reader.partitions(*self._topics.values())
        # Start with a backlog, so clients reconnecting to a fresh gateway can still resume.
        ends = await reader.ends(partitions)
        starts = await reader.beginnings(partitions)
        per_partition = max(1, (self._buffer.maxlen or 1) // max(1, len(partitions)))
        first = {tp: max(starts[tp], ends[tp] - per_partition) for tp in partitions}
        for tp, offset in first.items():
            self._offsets[(self._codes[tp.topic], tp.partition)] = offset - 1
        self._task = asyncio.create_task(self._run(first), name="live-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for subscription in list(self._subscriptions):
            subscription.queue.put_nowait(None)
        await self._reader.stop()

    def subscribe(
        self, last_event_id: str | None, *, article: str | None = None, story: str | None = None
    ) -> tuple[Subscription, list[LiveEvent], bool]:
        """A new subscription, the buffered events it missed, and whether it missed more
        than is buffered (then it should reload)."""
        subscription = Subscription(asyncio.Queue(self._queue_size), article=article, story=story)
        replay: list[LiveEvent] = []
        gap = False
        if last_event_id:
            seen = _decode(last_event_id)
            if seen is None:
                gap = True
            else:
                replay = [
                    e
                    for e in self._buffer
                    if e.position[2] > seen.get(e.position[:2], -1) and subscription.wants(e)
                ]
                oldest: dict[tuple[str, int], int] = {}
                for event in self._buffer:
                    oldest.setdefault(event.position[:2], event.position[2])
                gap = any(offset < oldest.get(key, offset + 1) - 1 for key, offset in seen.items())
        self._subscriptions.add(subscription)
        return subscription, replay, gap

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def _deliver(self, event: LiveEvent) -> None:
        self._buffer.append(event)
        for listener in self._listeners:
            listener(event)
        for subscription in list(self._subscriptions):
            if subscription.wants(event):
                try:
                    subscription.queue.put_nowait(event)
                except asyncio.QueueFull:
                    # A client that cannot keep up is told to reload, not buffered for.
                    self._subscriptions.discard(subscription)
                    with contextlib.suppress(asyncio.QueueFull):
                        subscription.queue.put_nowait(None)

    async def _run(self, first: dict[TopicPartition, int]) -> None:
        async with contextlib.aclosing(
            self._reader.read(first, start=first, follow=True)
        ) as batches:
            async for records in batches:
                code = self._codes[records[0].topic]
                for record in records:
                    # The event's id is the feed's position including the event itself.
                    self._offsets[(code, record.partition)] = record.offset
                    event = self._event(code, record)
                    if event is not None:
                        self._deliver(event)

    def _event(self, code: str, record: Any) -> LiveEvent | None:
        try:
            decoded, _ = cloudevents.decode(_CODES[code], record.headers or (), record.value)
        except InvalidEventError:
            return None
        position = (code, record.partition, record.offset)
        if isinstance(decoded, ArticleRelated):
            data = {
                "id": decoded.id,
                "version": decoded.version,
                "story_id": decoded.story_id,
                "related": [r.id for r in decoded.related[:10]],
                "duplicate_of": decoded.duplicate_of,
                "updated_at": decoded.updated_at.isoformat(),
            }
            return LiveEvent("article", decoded.id, data, _encode(self._offsets), position)
        assert isinstance(decoded, StoryUpdated)
        data = {
            "id": decoded.id,
            "title": decoded.title,
            "article_count": decoded.article_count,
            "last_seen": decoded.last_seen.isoformat(),
            "merged_into": decoded.merged_into,
        }
        return LiveEvent("story", decoded.id, data, _encode(self._offsets), position)
