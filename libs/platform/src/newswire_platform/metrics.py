"""Prometheus metrics shared by every service (served on each service's /metrics)."""

from __future__ import annotations

from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY, Counter, Histogram, make_asgi_app
from pymongo import monitoring

__all__ = [
    "MESSAGES_DEAD_LETTERED",
    "MESSAGES_RETRIED",
    "STORE_COMMAND_SECONDS",
    "StoreCommandMetrics",
    "broker_metrics_middleware",
    "metrics_asgi_app",
]

MESSAGES_RETRIED = Counter(
    "newswire_messages_retried_total",
    "Handler attempts that failed and were retried.",
    ["service", "topic"],
)
MESSAGES_DEAD_LETTERED = Counter(
    "newswire_messages_dead_lettered_total",
    "Messages sent to a dead-letter topic.",
    ["service", "topic"],
)


STORE_COMMAND_SECONDS = Histogram(
    "newswire_store_command_seconds",
    "Round trips to the store (MongoDB or FerretDB), by command, as the driver timed them.",
    ["service", "command", "outcome"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)


class StoreCommandMetrics(monitoring.CommandListener):
    """Times every store command through the driver's command monitoring.

    The driver already measures each round trip, so the store's share of a handler's time
    is visible without wrapping every call site.
    """

    def __init__(self, service: str) -> None:
        self._service = service

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        STORE_COMMAND_SECONDS.labels(self._service, event.command_name, "ok").observe(
            event.duration_micros / 1e6
        )

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        STORE_COMMAND_SECONDS.labels(self._service, event.command_name, "error").observe(
            event.duration_micros / 1e6
        )


def broker_metrics_middleware(service: str) -> KafkaPrometheusMiddleware:
    """FastStream's received/processed/latency metrics for one service's broker."""
    return KafkaPrometheusMiddleware(registry=REGISTRY, app_name=service, metrics_prefix="newswire")


def metrics_asgi_app():  # type: ignore[no-untyped-def]
    """An ASGI app serving the default registry in Prometheus text format."""
    return make_asgi_app(REGISTRY)
