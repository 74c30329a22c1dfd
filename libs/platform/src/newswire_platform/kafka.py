"""Kafka wiring: the broker, explicit topic creation, typed subscribers and event publishing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from aiokafka import ConsumerRecord
from aiokafka.admin import NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.message import StreamMessage
from newswire_contracts import cloudevents
from newswire_contracts.cloudevents import EventMeta, InvalidEventError
from newswire_contracts.events import Event
from pydantic import Field

from . import clients
from .settings import ServiceSettings
from .tracing import child_of, current_traceparent, telemetry_middleware

__all__ = [
    "DEAD_LETTER_MESSAGE",
    "BatchFill",
    "Decoded",
    "DecodedBatch",
    "EventPublisher",
    "batch_event_subscriber",
    "create_broker",
    "declare_dead_letters",
    "declare_published",
    "decode_batch",
    "ensure_topics",
    "event_subscriber",
    "wait_for_kafka",
]

log = logging.getLogger(__name__)
E = TypeVar("E", bound=Event)


def create_broker(
    settings: ServiceSettings, *, middlewares: Iterable[Any] = (), tracer_provider: Any = None
) -> KafkaBroker:
    """A FastStream Kafka broker whose producer waits for every in-sync replica.

    ``acks=all`` with the idempotent producer is what lets a consumer commit its input
    offset right after publishing: the output is durable and never written twice by a
    producer retry. With ``otel_exporter`` set, OpenTelemetry spans wrap every publish and
    consume (outermost, so retries and dead letters are inside them).
    """
    if settings.otel_exporter != "none" or tracer_provider is not None:
        telemetry = telemetry_middleware(
            settings.service_name, settings.otel_exporter, settings.otel_endpoint, tracer_provider
        )
        middlewares = (telemetry, *middlewares)
    return KafkaBroker(
        settings.kafka_bootstrap_list,
        client_id=f"newswire-{settings.service_name}",
        acks="all",
        enable_idempotence=True,
        max_request_size=settings.kafka_max_message_bytes,
        compression_type=None
        if settings.kafka_compression == "none"
        else settings.kafka_compression,
        linger_ms=settings.kafka_linger_ms,
        max_batch_size=256 * 1024,
        request_timeout_ms=30_000,
        middlewares=tuple(middlewares),
        graceful_timeout=30.0,
        logger=logging.getLogger(f"newswire.{settings.service_name}.broker"),
        # FastStream's "Received" and "Processed" for every message: the handlers log what
        # they did with each article at INFO already, and these lines cost as much again.
        log_level=logging.DEBUG,
    )


async def wait_for_kafka(settings: ServiceSettings, timeout: float = 60.0) -> None:
    """Wait until the brokers answer (they may still be starting), or raise."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        admin = clients.admin_client(settings)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError) as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise KafkaConnectionError(
                    f"Kafka at {settings.kafka_bootstrap_servers} did not answer in {timeout:.0f}s"
                ) from exc
            log.warning("waiting for Kafka", extra={"error": str(exc)})
            await asyncio.sleep(1.0)
        finally:
            await admin.close()


async def ensure_topics(settings: ServiceSettings, names: Iterable[str]) -> list[str]:
    """Create the missing ones among the given contract topics; return those created.

    Topics are never auto-created: partitions, replication and the message size limit
    come from settings, the same for every topic.
    """
    wanted = sorted({settings.topic(name) for name in names})
    admin = clients.admin_client(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    name,
                    num_partitions=settings.topic_partitions,
                    replication_factor=settings.topic_replication_factor,
                    topic_configs=_topic_configs(settings),
                )
                for name in missing
            ]
        )
        for topic_error in response.topic_errors:
            name, code = topic_error[0], topic_error[1]
            # A topic created by someone else between our list and create is no error.
            if code not in (0, TopicAlreadyExistsError.errno):
                message = topic_error[2] if len(topic_error) > 2 else ""
                raise KafkaError(f"cannot create topic {name}: error {code} {message}")
        log.info("created topics", extra={"topics": missing})
        return missing
    finally:
        await admin.close()


def _topic_configs(settings: ServiceSettings) -> dict[str, str]:
    configs = {"max.message.bytes": str(settings.kafka_max_message_bytes)}
    if settings.topic_min_insync_replicas is not None:
        # With acks=all, a write is acknowledged once this many replicas have it.
        configs["min.insync.replicas"] = str(settings.topic_min_insync_replicas)
    return configs


def event_decoder(model: type[E] | Any) -> Callable[[StreamMessage[Any]], Any]:
    """A FastStream decoder that validates the CloudEvents headers and the body as ``model``.

    Raises InvalidEventError for anything else, which the dead-letter middleware sends to
    the dead-letter topic without retrying.
    """

    async def decode(message: StreamMessage[Any]) -> E:
        event, _ = cloudevents.decode(model, message.headers, message.body)
        return event

    return decode


def event_subscriber(
    registrar: KafkaBroker | KafkaRouter,
    settings: ServiceSettings,
    model: type[Event] | Any,  # or a union class like IngestRequest: has event_type, topic
    *,
    description: str,
    listener: Any = None,
) -> Any:
    """Subscribe a handler to ``model``'s topic the way every Newswire consumer does.

    One consumer group per service, so instances share the partitions; offsets start at
    the earliest message for a new group (nothing published before the first deploy is
    skipped) and are committed only after the handler (or the dead-letter middleware) is
    done with a message; the body is validated as ``model`` with its CloudEvents headers.
    """
    return registrar.subscriber(
        settings.topic(model.topic),
        decoder=event_decoder(model),
        listener=listener,
        **_group_member(settings, model, description),
    )


def batch_event_subscriber(
    registrar: KafkaBroker | KafkaRouter,
    settings: ServiceSettings,
    model: type[Event] | Any,
    *more: type[Event] | Any,
    description: str,
    max_records: int,
    batch_timeout_ms: int = 100,
    max_partition_fetch_bytes: int = 1024 * 1024,
    listener: Any = None,
    fill: BatchFill | None = None,
) -> Any:
    """Like event_subscriber, for handlers that take up to ``max_records`` messages at once.

    The handler receives the batch's KafkaMessage and decodes it with ``decode_batch``,
    which sets aside invalid records instead of failing the batch. Offsets are committed
    once the handler returns: after the whole batch is handled. Further models are read by
    the same subscriber: with equal partition counts, the group gives a member the same
    partitions of every topic it reads. ``fill``: let the broker hold a fetch until a batch's
    worth has come, for a handler whose cost per message falls with the batch.
    """
    member = _group_member(settings, model, description)
    if fill is not None and fill.wait_ms > 0:
        member["fetch_min_bytes"] = fill.min_bytes
        member["fetch_max_wait_ms"] = fill.wait_ms
    return registrar.subscriber(
        *(settings.topic(m.topic) for m in (model, *more)),
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        max_partition_fetch_bytes=max_partition_fetch_bytes,
        listener=listener,
        **member,
    )


@dataclass(frozen=True)
class BatchFill:
    """How long the broker may hold a batch consumer's fetch for more messages to come
    (``wait_ms``), unless ``min_bytes`` have come by then (a full batch of typical messages).

    Below saturation a batch would otherwise hold the one or two messages that arrived while
    the last was handled, and a handler that pays per call (a model's per-batch steps, a
    round trip per batch) pays it per message. The price: up to ``wait_ms`` more latency for
    a message that arrives when the consumer is idle, and an idle consumer's empty fetches
    come every ``wait_ms`` instead of every ``kafka_fetch_max_wait_ms``.
    """

    wait_ms: int
    min_bytes: int


def _group_member(settings: ServiceSettings, model: Any, description: str) -> dict[str, Any]:
    return {
        "group_id": settings.consumer_group,
        "ack_policy": AckPolicy.ACK,
        "auto_offset_reset": "earliest",
        # Transient failures are retried inside the handler call; give them time before
        # the group coordinator considers this consumer dead.
        "max_poll_interval_ms": 15 * 60 * 1000,
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
        "title": f"{settings.topic(model.topic)}:{settings.service_name}",
        "description": description,
    }


def declare_published(
    registrar: KafkaBroker | KafkaRouter,
    settings: ServiceSettings,
    publishes: Mapping[type[Event] | Any, str],
) -> None:
    """Document that this service publishes each model (-> description) on its topic.

    Only for the AsyncAPI specification: the FastStream publishers declared here are never
    used to send (EventPublisher does that), they put the topic, the description and the
    payload schema (the model's ``payload`` if it has one, as the union holder
    IngestRequest does, else the model) into the service's document. Each publisher is
    named after its model, which names its message in the merged Newswire document.
    """
    for model, description in publishes.items():
        registrar.publisher(
            settings.topic(model.topic),
            title=model.__name__,
            description=description,
            schema=getattr(model, "payload", model),
        )


DEAD_LETTER_MESSAGE = "DeadLetter"
"""The name of the dead-letter message in AsyncAPI documents."""

_DeadLetterValue = Annotated[
    Any,
    Field(
        description="The value of the message that could not be processed, byte for byte: "
        "usually an event of the consumed topic, but possibly what made it fail."
    ),
]


def declare_dead_letters(
    registrar: KafkaBroker | KafkaRouter, settings: ServiceSettings, topic: str
) -> None:
    """Document the service's dead-letter topic (see newswire_platform.dead_letter).

    Like declare_published, only for the AsyncAPI specification: dead letters are written
    by DeadLetterProducer.
    """
    registrar.publisher(
        settings.topic(topic),
        title=DEAD_LETTER_MESSAGE,
        description=f"Messages the {settings.service_name} service could not process: "
        "invalid events at once, other failures after its retries. Each keeps the original "
        "key, value and headers and adds x-dlq-* headers saying why and where it came from. "
        "No service consumes it: it is there for operators to inspect.",
        schema=_DeadLetterValue,
    )


@dataclass(frozen=True, slots=True)
class Decoded(Generic[E]):
    """One valid event of a batch, with its CloudEvents attributes and its record."""

    event: E
    meta: EventMeta
    record: ConsumerRecord[Any, Any]


@dataclass(frozen=True, slots=True)
class DecodedBatch(Generic[E]):
    events: list[Decoded[E]]
    invalid: list[tuple[ConsumerRecord[Any, Any], InvalidEventError]]


def decode_batch(
    records: Iterable[ConsumerRecord[Any, Any]], model: type[E] | Any
) -> DecodedBatch[E]:
    """Validate each record of a batch as ``model``; the invalid ones are returned apart."""
    batch: DecodedBatch[E] = DecodedBatch([], [])
    for record in records:
        try:
            event, meta = cloudevents.decode(model, record.headers or (), record.value)
        except InvalidEventError as exc:
            batch.invalid.append((record, exc))
        else:
            batch.events.append(Decoded(event, meta, record))
    return batch


class EventPublisher:
    """Publishes contract events with their CloudEvents headers on the deployed topic names."""

    def __init__(
        self, broker: KafkaBroker, settings: ServiceSettings, *, otel: bool | None = None
    ) -> None:
        self._broker = broker
        self._settings = settings
        self._otel = settings.otel_exporter != "none" if otel is None else otel

    async def publish(
        self, event: Event, *, event_id: str | None = None, traceparent: str | None = None
    ) -> EventMeta:
        """Publish and wait until every in-sync replica has the message.

        The event carries a child span of ``traceparent``, or of the trace in progress (the
        message or request being handled), or starts a trace. With OpenTelemetry on, its
        middleware sets the header instead.
        """
        parent = None if self._otel else child_of(traceparent or current_traceparent())
        encoded = cloudevents.encode(
            event, source=self._settings.event_source, event_id=event_id, traceparent=parent
        )
        await self._broker.publish(
            encoded.value,
            topic=self._settings.topic(encoded.topic),
            key=encoded.key,
            headers={name: value.decode() for name, value in encoded.headers},
            correlation_id=encoded.meta.id,
        )
        return encoded.meta
