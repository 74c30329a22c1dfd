"""Plumbing every Newswire service shares; nothing here knows about news."""

from .dead_letter import DeadLetterPolicy, DeadLetterProducer, PermanentError, TransientError
from .kafka import (
    BatchFill,
    Decoded,
    DecodedBatch,
    EventPublisher,
    batch_event_subscriber,
    create_broker,
    decode_batch,
    ensure_topics,
    event_subscriber,
)
from .log_reader import LogReader
from .logging import bind, configure_logging, log_context
from .mongo import (
    StoreError,
    StoreUnavailable,
    create_mongo_client,
    ping_mongo,
    store_errors,
    wait_for_mongo,
)
from .service import ConsumerParts, consumer_parts, consumer_service, run, serve
from .settings import CommaList, KafkaServers, ServiceSettings, StoreSettings

__all__ = [
    "BatchFill",
    "CommaList",
    "ConsumerParts",
    "DeadLetterPolicy",
    "DeadLetterProducer",
    "Decoded",
    "DecodedBatch",
    "EventPublisher",
    "KafkaServers",
    "LogReader",
    "PermanentError",
    "ServiceSettings",
    "StoreError",
    "StoreSettings",
    "StoreUnavailable",
    "TransientError",
    "batch_event_subscriber",
    "bind",
    "configure_logging",
    "consumer_parts",
    "consumer_service",
    "create_broker",
    "create_mongo_client",
    "decode_batch",
    "ensure_topics",
    "event_subscriber",
    "log_context",
    "ping_mongo",
    "run",
    "serve",
    "store_errors",
    "wait_for_mongo",
]
