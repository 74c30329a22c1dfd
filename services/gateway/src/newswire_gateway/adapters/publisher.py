"""Publishing the gateway's commands and events on Kafka."""

from __future__ import annotations

from aiokafka.errors import KafkaError
from newswire_contracts import Event
from newswire_platform import EventPublisher

__all__ = ["EventLogUnavailable", "Publisher"]


class EventLogUnavailable(Exception):
    """Kafka did not take the message: it will pass, retry later."""


class Publisher:
    def __init__(self, events: EventPublisher) -> None:
        self._events = events

    async def publish(self, event: Event) -> str:
        """Publish once every in-sync replica has it; the event's id."""
        try:
            return (await self._events.publish(event)).id
        except KafkaError as exc:
            raise EventLogUnavailable(repr(exc)) from exc
