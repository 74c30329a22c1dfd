"""Retries with backoff and dead-letter topics for FastStream Kafka consumers.

FastStream has neither (a NACK re-reads the same message at once), so every consumer
gets this middleware. For each message it:

* dead-letters at once what can never succeed: an invalid event (bad headers, bad JSON,
  a body that fails validation) or a handler's PermanentError;
* retries transient failures (broker or store unreachable) with capped exponential
  backoff for as long as they last, without committing, so nothing is lost;
* retries any other exception ``max_attempts`` times, then dead-letters it.

A dead letter keeps the original key, value and headers and adds ``x-dlq-*`` headers
(newswire_contracts.dead_letters) with the reason, the error type, the attempt count and
the original coordinates. The offset is committed only after the dead letter is
acknowledged by every in-sync replica.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError, KafkaTimeoutError
from faststream import BaseMiddleware
from faststream.exceptions import HandlerException
from faststream.message import StreamMessage
from newswire_contracts import cloudevents, dead_letters
from newswire_contracts.cloudevents import InvalidEventError
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, ExecutionTimeout, WTimeoutError

from . import clients
from .logging import log_context
from .metrics import MESSAGES_DEAD_LETTERED, MESSAGES_RETRIED
from .mongo import StoreUnavailable
from .settings import ServiceSettings
from .tracing import trace_id_of, traced

__all__ = [
    "DeadLetterPolicy",
    "DeadLetterProducer",
    "PermanentError",
    "TransientError",
    "dead_letter_headers",
    "describe",
    "is_transient",
]

log = logging.getLogger(__name__)


class PermanentError(Exception):
    """Raised by a handler for input it can never process (goes to the dead-letter topic)."""


class TransientError(Exception):
    """Raised by a handler for a failure that will pass (retried without limit)."""


_PERMANENT = (InvalidEventError, ValidationError, PermanentError, UnicodeDecodeError)
_TRANSIENT = (
    TransientError,
    StoreUnavailable,
    ConnectionFailure,  # also AutoReconnect, ServerSelectionTimeoutError, NetworkTimeout
    ExecutionTimeout,
    WTimeoutError,
    KafkaTimeoutError,
)


def is_transient(error: BaseException) -> bool:
    """Whether a failure comes from an unreachable dependency rather than the message."""
    if isinstance(error, _TRANSIENT):
        return True
    return isinstance(error, KafkaError) and bool(getattr(error, "retriable", False))


def describe(error: BaseException) -> str:
    """The reason recorded with a dead letter."""
    return f"{type(error).__name__}: {error}"[: dead_letters.MAX_REASON_CHARS]


def dead_letter_headers(
    record: ConsumerRecord[Any, Any], *, service: str, error: BaseException, attempts: int
) -> list[tuple[str, bytes]]:
    """The original record's headers plus the failure, as a dead letter carries them."""
    failure = dead_letters.Failure(
        reason=describe(error),
        error_type=type(error).__name__,
        service=service,
        attempts=attempts,
        original_topic=record.topic,
        original_partition=record.partition,
        original_offset=record.offset,
        original_timestamp=record.timestamp,
        failed_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    )
    return dead_letters.with_failure(record.headers or (), failure)


class DeadLetterProducer:
    """A plain aiokafka producer for dead letters.

    FastStream's publisher takes headers as text; a dead letter must keep the original
    headers byte for byte, including the non-UTF-8 one that may be why it failed.
    """

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = clients.producer(self._settings, "dlq")
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send(
        self,
        topic: str,
        record: ConsumerRecord[Any, Any],
        headers: list[tuple[str, bytes]],
        *,
        prefixed: bool = True,
    ) -> None:
        """Send ``record``'s key and value with ``headers`` to ``topic`` (a contract topic name,
        or with ``prefixed=False`` a deployed one) and wait for every in-sync replica."""
        if self._producer is None:
            raise RuntimeError("DeadLetterProducer.start() was not awaited")
        name = self._settings.topic(topic) if prefixed else topic
        await self._producer.send_and_wait(
            name, value=record.value, key=record.key, headers=headers
        )


@dataclass(frozen=True)
class DeadLetterPolicy:
    """What a service does with messages it cannot process; ``middleware`` plugs it in."""

    service: str
    dead_letter_topic: str
    producer: DeadLetterProducer
    max_attempts: int = 5
    initial_delay: float = 0.2
    max_delay: float = 30.0
    sleep: Callable[[float], Any] = asyncio.sleep

    def delay(self, attempt: int) -> float:
        """Backoff before retry number ``attempt`` (1-based): doubling, capped."""
        return min(self.max_delay, self.initial_delay * 2 ** (attempt - 1))

    async def attempt(
        self, work: Callable[[], Awaitable[None]], record: ConsumerRecord[Any, Any]
    ) -> tuple[BaseException, int] | None:
        """Do the work of one message of a batch, for batch handlers (the middleware sees
        whole batches): ``None`` once done; the error and the attempts made when the message
        is for the dead-letter topic (a permanent error at once, any other after
        ``max_attempts``), to be sent after the batch so that a retried batch does not send
        it twice. A failure that will pass (store or broker down) is raised, failing the
        batch, which is then retried whole: every effect is idempotent."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                await work()
                return None
            except Exception as exc:
                if is_transient(exc):
                    raise
                if isinstance(exc, _PERMANENT) or attempt == self.max_attempts:
                    log.exception("message not handled", extra={"attempts": attempt})
                    return exc, attempt
                MESSAGES_RETRIED.labels(self.service, record.topic).inc()
                log.warning(
                    "handler failed; retrying", extra={"error": repr(exc), "attempt": attempt}
                )
                await self.sleep(self.delay(attempt))
        raise AssertionError("unreachable: the last attempt returns")

    def middleware(self, msg: Any, /, *, context: Any) -> _DeadLetterMiddleware:
        """The FastStream broker middleware factory."""
        return _DeadLetterMiddleware(msg, context=context, policy=self)

    async def dead_letter(
        self, record: ConsumerRecord[Any, Any], error: BaseException, attempts: int
    ) -> None:
        """Send the record to the dead-letter topic, retrying until Kafka takes it."""
        headers = dead_letter_headers(record, service=self.service, error=error, attempts=attempts)
        await self._send_until_taken(record, headers)
        MESSAGES_DEAD_LETTERED.labels(self.service, record.topic).inc()
        log.error(
            "message dead-lettered",
            extra={
                "reason": describe(error),
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "attempts": attempts,
                "dead_letter_topic": self.dead_letter_topic,
            },
        )

    async def requeue(self, record: ConsumerRecord[Any, Any]) -> None:
        """Put a record back at the end of its own topic, unchanged.

        For the good records of a batch that FastStream could not parse because of one bad
        record: they are committed past, so they must be published again, not dropped.
        """
        await self._send_until_taken(record, list(record.headers or ()), back=True)

    async def _send_until_taken(
        self,
        record: ConsumerRecord[Any, Any],
        headers: list[tuple[str, bytes]],
        *,
        back: bool = False,
    ) -> None:
        """To the dead-letter topic, or ``back`` to the record's own (deployed) topic."""
        topic = record.topic if back else self.dead_letter_topic
        failures = 0
        while True:
            try:
                await self.producer.send(topic, record, headers, prefixed=not back)
                return
            except (KafkaError, OSError) as exc:
                failures += 1
                log.warning("publish to %s failed; retrying", topic, extra={"error": repr(exc)})
                await self.sleep(self.delay(failures))


class _DeadLetterMiddleware(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: Any, policy: DeadLetterPolicy) -> None:
        super().__init__(msg, context=context)
        self.policy = policy

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        event_id, event_type, parent = cloudevents.peek(msg.headers or {})
        with (
            traced(parent) as traceparent,
            log_context(
                event_id=event_id, event_type=event_type, trace_id=trace_id_of(traceparent)
            ),
        ):
            return await self._consume_with_retries(call_next, msg)

    async def _consume_with_retries(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        policy = self.policy
        record = msg.raw_message
        attempts = 0
        while True:
            attempts += 1
            try:
                return await call_next(msg)
            except (HandlerException, asyncio.CancelledError):
                raise
            except _PERMANENT as exc:
                await policy.dead_letter(record, exc, attempts)
                return None
            except Exception as exc:
                # Never dead-letter a good message because a dependency is down.
                transient = is_transient(exc)
                if not transient and attempts >= policy.max_attempts:
                    log.exception("giving up on message", extra={"attempts": attempts})
                    await policy.dead_letter(record, exc, attempts)
                    return None
                wait = policy.delay(attempts)
                log.warning(
                    "transient failure; retrying" if transient else "handler failed; retrying",
                    extra={"error": repr(exc), "attempt": attempts, "retry_in_s": wait},
                )
                MESSAGES_RETRIED.labels(policy.service, record.topic).inc()
                await policy.sleep(wait)

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: Any = None,
    ) -> bool | None:
        # Only failures before the handler chain reach here: FastStream's parser could not
        # even read the record (e.g. a header that is not UTF-8).
        if not isinstance(exc_val, Exception) or isinstance(exc_val, HandlerException):
            return False  # nothing failed, or a cancellation, or FastStream's own signal
        if isinstance(self.msg, ConsumerRecord):
            await self.policy.dead_letter(self.msg, exc_val, attempts=1)
            return True
        if isinstance(self.msg, tuple):
            # One bad record spoils FastStream's parse of the whole batch: dead-letter the
            # bad ones and queue the others again, so nothing is lost once we commit.
            for record in self.msg:
                if _headers_readable(record):
                    await self.policy.requeue(record)
                else:
                    await self.policy.dead_letter(record, exc_val, attempts=1)
            return True
        return False


def _headers_readable(record: ConsumerRecord[Any, Any]) -> bool:
    try:
        for _, value in record.headers or ():
            value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
