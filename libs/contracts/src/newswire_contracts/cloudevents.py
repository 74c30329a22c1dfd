"""CloudEvents 1.0 Kafka protocol binding, binary mode, for Newswire events.

The value is the event's JSON; ``content-type`` and the ``ce_*`` attributes travel as
headers. This module is the only place that writes or reads them, and it needs no Kafka
client: ``encode`` returns what to send, ``decode`` takes what was received.
``source`` + ``id`` is unique per event, so a consumer may treat a repeat as a duplicate.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import ValidationError

from .events import Event

__all__ = [
    "CONTENT_TYPE",
    "SPEC_VERSION",
    "EncodedEvent",
    "EventMeta",
    "InvalidEventError",
    "decode",
    "derive_event_id",
    "encode",
    "new_event_id",
    "peek",
    "read_meta",
]

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
TRACEPARENT = "traceparent"
_NAMESPACE = uuid.UUID("6f1d5a3e-8a43-4d0e-9a55-2c8f3b1e7d10")

E = TypeVar("E", bound=Event)
Headers = Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]]


class InvalidEventError(ValueError):
    """A message is not a valid Newswire event: missing or wrong headers, or a bad body."""


@dataclass(frozen=True, slots=True)
class EventMeta:
    """The CloudEvents attributes of one event."""

    id: str
    source: str
    type: str
    time: datetime
    subject: str | None = None
    traceparent: str | None = None


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """An event ready for any Kafka producer: topic, key, value and headers."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    meta: EventMeta


def new_event_id() -> str:
    """A fresh random event id, for events that start a chain (a submission)."""
    return str(uuid.uuid4())


def derive_event_id(*parts: str) -> str:
    """A deterministic event id from what caused the event.

    Reprocessing the same input after a crash then republishes the same id, which is what
    lets downstream consumers recognise the repeat.
    """
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def encode(
    event: Event,
    *,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> EncodedEvent:
    """Serialise an event with its CloudEvents headers."""
    if time is not None and time.tzinfo is None:
        raise ValueError("time must be timezone-aware")
    meta = EventMeta(
        id=event_id or new_event_id(),
        source=source,
        type=event.event_type,
        time=(time or datetime.now(UTC)).astimezone(UTC),
        subject=event.key(),
        traceparent=traceparent,
    )
    headers = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", meta.id.encode()),
        ("ce_source", meta.source.encode()),
        ("ce_type", meta.type.encode()),
        ("ce_time", meta.time.isoformat(timespec="microseconds").replace("+00:00", "Z").encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    if meta.subject is not None:
        headers.append(("ce_subject", meta.subject.encode()))
    if traceparent:
        headers.append((TRACEPARENT, traceparent.encode()))
    return EncodedEvent(
        topic=event.topic,
        key=event.key().encode(),
        value=event.model_dump_json().encode(),
        headers=headers,
        meta=meta,
    )


def read_meta(headers: Headers) -> EventMeta:
    """Read the CloudEvents attributes from Kafka headers (bytes or already-decoded str)."""
    found = _header_map(headers)
    missing = [
        name
        for name in ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time")
        if not found.get(name)
    ]
    if missing:
        raise InvalidEventError(f"missing CloudEvents headers: {', '.join(missing)}")
    if found["ce_specversion"] != SPEC_VERSION:
        raise InvalidEventError(f"unsupported ce_specversion {found['ce_specversion']!r}")
    content_type = found.get("content-type", CONTENT_TYPE)
    if content_type.split(";")[0].strip() != CONTENT_TYPE:
        raise InvalidEventError(f"content-type must be {CONTENT_TYPE}, not {content_type!r}")
    try:
        time = datetime.fromisoformat(found["ce_time"])
    except ValueError as exc:
        raise InvalidEventError(f"ce_time is not an RFC 3339 time: {found['ce_time']!r}") from exc
    if time.tzinfo is None:
        raise InvalidEventError("ce_time has no UTC offset")
    return EventMeta(
        id=found["ce_id"],
        source=found["ce_source"],
        type=found["ce_type"],
        time=time,
        subject=found.get("ce_subject"),
        traceparent=found.get(TRACEPARENT),
    )


def peek(headers: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    """``(ce_id, ce_type, traceparent)`` as far as a message's headers (decoded) give them:
    for the logs and the trace of a message that may not be a valid event."""
    return headers.get("ce_id"), headers.get("ce_type"), headers.get(TRACEPARENT)


def decode(model: type[E], headers: Headers, value: bytes | None) -> tuple[E, EventMeta]:
    """Validate a received message as ``model``; raise InvalidEventError saying why not."""
    meta = read_meta(headers)
    if meta.type != model.event_type:
        raise InvalidEventError(f"expected event type {model.event_type!r}, got {meta.type!r}")
    if not value:
        raise InvalidEventError("message has an empty value")
    try:
        return model.model_validate_json(value), meta
    except ValidationError as exc:
        raise InvalidEventError(f"invalid {model.__name__}: {_summarise(exc)}") from exc


def _header_map(headers: Headers) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    result: dict[str, str] = {}
    for name, raw in items:
        if isinstance(raw, bytes):
            try:
                result[name] = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidEventError(f"header {name!r} is not UTF-8") from exc
        else:
            result[name] = raw
    return result


def _summarise(exc: ValidationError, limit: int = 5) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in errors[:limit]
    ]
    if len(errors) > limit:
        parts.append(f"... {len(errors) - limit} more")
    return "; ".join(parts)
