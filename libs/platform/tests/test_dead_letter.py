"""Retry and dead-letter decisions of the consumer middleware (in-memory broker).

The real-broker path (dead letters on a real topic, the consumer carrying on) is tested
end to end in tests/test_dead_letters.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from newswire_contracts import IngestArticle, cloudevents
from newswire_platform import DeadLetterPolicy, PermanentError, event_subscriber
from newswire_platform.dead_letter import dead_letter_headers
from newswire_platform.settings import ServiceSettings
from pymongo.errors import ServerSelectionTimeoutError

pytestmark = pytest.mark.service


class Settings(ServiceSettings):
    @property
    def http_port(self) -> int:
        return 0


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any, list[tuple[str, bytes]]]] = []

    async def send(
        self, topic: str, record: Any, headers: list[tuple[str, bytes]], *, prefixed: bool = True
    ) -> None:
        self.sent.append((topic, record, headers))


def build(
    failures: list[BaseException],
) -> tuple[KafkaBroker, RecordingProducer, list[IngestArticle], list[float]]:
    """A broker whose handler raises the given errors in turn, then succeeds."""
    producer = RecordingProducer()
    delays: list[float] = []

    async def no_sleep(seconds: float) -> None:
        delays.append(seconds)

    policy = DeadLetterPolicy(
        service="test",
        dead_letter_topic="test.dlq",
        producer=producer,
        max_attempts=3,
        sleep=no_sleep,  # type: ignore[arg-type]
    )
    broker = KafkaBroker(middlewares=[policy.middleware])
    handled: list[IngestArticle] = []
    pending = list(failures)

    @event_subscriber(broker, Settings(), IngestArticle, description="test")
    async def handler(command: IngestArticle) -> None:
        if pending:
            raise pending.pop(0)
        handled.append(command)

    return broker, producer, handled, delays


def valid() -> tuple[bytes, dict[str, str]]:
    command = IngestArticle(
        url="https://news.example/a", text="Text", submitted_at=datetime.now(UTC)
    )
    encoded = cloudevents.encode(command, source="/test")
    return encoded.value, {name: value.decode() for name, value in encoded.headers}


async def test_a_valid_message_is_handled_without_dead_letters() -> None:
    broker, producer, handled, _ = build([])
    value, headers = valid()
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(value, "ingest.requests", headers=headers)
    assert len(handled) == 1
    assert producer.sent == []


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (b"garbage", None, "InvalidEventError: invalid IngestArticle"),
        (None, {"ce_type": "newswire.other.v1"}, "expected event type"),
        (None, {"ce_id": ""}, "missing CloudEvents headers: ce_id"),
    ],
)
async def test_invalid_events_are_dead_lettered_at_once(
    value: bytes | None, headers: dict[str, str] | None, reason: str
) -> None:
    broker, producer, handled, delays = build([])
    good_value, good_headers = valid()
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(
            value or good_value, "ingest.requests", headers={**good_headers, **(headers or {})}
        )
    assert handled == []
    assert delays == []
    [(topic, _, dlq_headers)] = producer.sent
    extra = {name: v.decode() for name, v in dlq_headers if name.startswith("x-dlq-")}
    assert topic == "test.dlq"
    assert reason in extra["x-dlq-reason"]
    assert extra["x-dlq-attempts"] == "1"
    assert extra["x-dlq-original-topic"] == "ingest.requests"


async def test_permanent_handler_errors_are_not_retried() -> None:
    broker, producer, handled, delays = build([PermanentError("no text")])
    value, headers = valid()
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(value, "ingest.requests", headers=headers)
    assert handled == []
    assert delays == []
    assert len(producer.sent) == 1


async def test_transient_errors_are_retried_with_backoff_until_they_pass() -> None:
    outage = [ServerSelectionTimeoutError("store down")] * 6  # more than max_attempts
    broker, producer, handled, delays = build(outage)
    value, headers = valid()
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(value, "ingest.requests", headers=headers)
    assert len(handled) == 1
    assert producer.sent == []
    assert delays == [0.2, 0.4, 0.8, 1.6, 3.2, 6.4]


async def test_other_errors_are_retried_then_dead_lettered() -> None:
    broker, producer, handled, delays = build([RuntimeError("bug")] * 3)
    value, headers = valid()
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(value, "ingest.requests", headers=headers)
    assert handled == []
    assert delays == [0.2, 0.4]
    [(_, _, dlq_headers)] = producer.sent
    extra = dict(dlq_headers)
    assert extra["x-dlq-attempts"] == b"3"
    assert extra["x-dlq-error-type"] == b"RuntimeError"


def test_dead_letter_headers_keep_the_original_ones() -> None:
    class Record:
        topic, partition, offset, timestamp = "ingest.requests", 2, 41, 1_700_000_000_000
        headers = [("ce_id", b"e-1"), ("odd", b"\xff\xfe"), ("x-dlq-reason", b"old")]

    headers = dead_letter_headers(Record(), service="ingest", error=ValueError("bad"), attempts=1)  # type: ignore[arg-type]
    assert ("ce_id", b"e-1") in headers
    assert ("odd", b"\xff\xfe") in headers
    assert [v for n, v in headers if n == "x-dlq-reason"] == [b"ValueError: bad"]
    assert ("x-dlq-original-partition", b"2") in headers
    assert (
        "x-dlq-original-offset",
        b"41",
    ) in headers
