"""The aiokafka clients the platform opens, built from a service's settings in one place."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from .settings import ServiceSettings

__all__ = ["admin_client", "consumer", "producer"]

# Room for the headers a dead letter or a replay adds to the largest message.
_HEADROOM = 64 * 1024


def _client_id(settings: ServiceSettings, role: str | None) -> str:
    return f"newswire-{settings.service_name}" + (f"-{role}" if role else "")


def admin_client(settings: ServiceSettings, role: str | None = None) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_list, client_id=_client_id(settings, role)
    )


def consumer(
    settings: ServiceSettings, role: str | None = None, *, group_id: str | None = None
) -> AIOKafkaConsumer:
    """A consumer that commits only when told to (and only with ``group_id``), with fetches
    bounded by the largest message."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_list,
        client_id=_client_id(settings, role),
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        max_partition_fetch_bytes=settings.kafka_max_message_bytes + _HEADROOM,
        fetch_max_bytes=max(50 * 1024 * 1024, settings.kafka_max_message_bytes * 2),
    )


def producer(settings: ServiceSettings, role: str | None = None) -> AIOKafkaProducer:
    """An idempotent producer that waits for every in-sync replica (``acks=all``)."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_list,
        client_id=_client_id(settings, role),
        acks="all",
        enable_idempotence=True,
        max_request_size=settings.kafka_max_message_bytes + _HEADROOM,
    )
