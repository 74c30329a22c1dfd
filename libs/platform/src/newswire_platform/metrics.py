"""Prometheus metrics shared by every service (served on each service's /metrics)."""

from __future__ import annotations

from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY, Counter, make_asgi_app

__all__ = [
    "MESSAGES_DEAD_LETTERED",
    "MESSAGES_RETRIED",
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


def broker_metrics_middleware(service: str) -> KafkaPrometheusMiddleware:
    """FastStream's received/processed/latency metrics for one service's broker."""
    return KafkaPrometheusMiddleware(registry=REGISTRY, app_name=service, metrics_prefix="newswire")


def metrics_asgi_app():  # type: ignore[no-untyped-def]
    """An ASGI app serving the default registry in Prometheus text format."""
    return make_asgi_app(REGISTRY)
