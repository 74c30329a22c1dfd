"""Dead letters on Kafka: the ``x-dlq-*`` headers that say why a message was not processed.

A dead letter is the original message (key, value and headers, byte for byte) on the
consuming service's dead-letter topic, with a ``Failure`` added as headers. Like
``cloudevents`` for the ``ce_*`` headers, this module is the only place that writes or
reads them, and it needs no Kafka client.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple, dataclass
from typing import TypeVar

__all__ = [
    "HEADERS",
    "HEADER_PREFIX",
    "MAX_REASON_CHARS",
    "REPLAYED_FROM",
    "Failure",
    "replay_headers",
    "with_failure",
]

HEADER_PREFIX = "x-dlq-"
REPLAYED_FROM = HEADER_PREFIX + "replayed-from"
"""Added to a replayed message: ``<dead-letter topic>:<partition>:<offset>`` it came from."""
MAX_REASON_CHARS = 2_000

HEADERS = {
    "x-dlq-reason": f"The error's type and message, at most {MAX_REASON_CHARS} characters.",
    "x-dlq-error-type": "The error's class name, e.g. InvalidEventError.",
    "x-dlq-service": "The service that gave up on the message.",
    "x-dlq-attempts": "How many times the message was tried (decimal).",
    "x-dlq-original-topic": "The topic the message was read from.",
    "x-dlq-original-partition": "Its partition (decimal).",
    "x-dlq-original-offset": "Its offset (decimal).",
    "x-dlq-original-timestamp": "Its timestamp, in milliseconds since the epoch (decimal).",
    "x-dlq-failed-at": "When it was dead-lettered, RFC 3339 in UTC.",
}
"""The headers a dead letter adds, in the order written, with what each says."""

Headers = Iterable[tuple[str, bytes | None]]
V = TypeVar("V", bound=bytes | None)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why and where a message failed, as its dead letter's headers say (None: absent or
    unreadable); one field per header of ``HEADERS``, in the same order."""

    reason: str | None = None
    error_type: str | None = None
    service: str | None = None
    attempts: int | None = None
    original_topic: str | None = None
    """The deployed (prefixed) topic the message was consumed from."""
    original_partition: int | None = None
    original_offset: int | None = None
    original_timestamp: int | None = None
    failed_at: str | None = None

    @classmethod
    def read(cls, headers: Headers) -> Failure:
        """From a dead letter's headers; the last of a repeated header counts."""
        found = {
            name.removeprefix(HEADER_PREFIX): value for name, value in headers if name in HEADERS
        }
        topic = _utf8(found.get("original-topic"))
        return cls(
            reason=_text(found.get("reason")),
            error_type=_text(found.get("error-type")),
            service=_text(found.get("service")),
            attempts=_int(found.get("attempts")),
            original_topic=(topic.strip() or None) if topic is not None else None,
            original_partition=_int(found.get("original-partition")),
            original_offset=_int(found.get("original-offset")),
            original_timestamp=_int(found.get("original-timestamp")),
            failed_at=_text(found.get("failed-at")),
        )


def with_failure(headers: Iterable[tuple[str, bytes]], failure: Failure) -> list[tuple[str, bytes]]:
    """A dead letter's headers: the original ones as they were, but for any ``x-dlq-*`` one,
    then the failure's (the fields that are set)."""
    fields = zip(HEADERS, astuple(failure), strict=True)
    added = [(name, str(value).encode()) for name, value in fields if value is not None]
    return [*_not_ours(headers), *added]


def replay_headers(headers: Headers, replayed_from: str) -> list[tuple[str, bytes]]:
    """A replayed message's headers: the original ones but for any ``x-dlq-*`` one, plus
    where the replay came from."""
    kept = [(name, value or b"") for name, value in _not_ours(headers)]
    return [*kept, (REPLAYED_FROM, replayed_from.encode())]


def _not_ours(headers: Iterable[tuple[str, V]]) -> list[tuple[str, V]]:
    return [(name, value) for name, value in headers if not name.lower().startswith(HEADER_PREFIX)]


def _utf8(raw: bytes | None) -> str | None:
    try:
        return raw.decode("utf-8") if raw is not None else None
    except UnicodeDecodeError:
        return None


def _text(raw: bytes | None) -> str | None:
    return raw.decode("utf-8", errors="replace") if raw is not None else None


def _int(raw: bytes | None) -> int | None:
    text = _text(raw)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
