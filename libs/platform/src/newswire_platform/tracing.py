"""A trace id carried across services: W3C ``traceparent`` on every message and request.

Without OpenTelemetry, Newswire still propagates a trace: a consumer takes the incoming
message's ``traceparent`` (or starts a trace), every event it publishes carries a child of
it, and every log line carries the trace id. With ``NEWSWIRE_OTEL_EXPORTER`` set, FastStream's
OpenTelemetry middleware records real spans and owns the header instead.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = [
    "child_of",
    "current_traceparent",
    "new_traceparent",
    "telemetry_middleware",
    "trace_id_of",
    "traced",
]

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_current: ContextVar[str | None] = ContextVar("newswire_traceparent", default=None)


def new_traceparent() -> str:
    """The start of a new trace (a new trace id and span id, sampled)."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def child_of(traceparent: str | None) -> str:
    """A new span in the same trace, or a new trace when there is none (or it is malformed)."""
    match = _TRACEPARENT.match(traceparent or "")
    if match is None or set(match.group(1)) == {"0"}:
        return new_traceparent()
    return f"00-{match.group(1)}-{secrets.token_hex(8)}-{match.group(3)}"


def trace_id_of(traceparent: str | None) -> str | None:
    match = _TRACEPARENT.match(traceparent or "")
    return match.group(1) if match else None


def current_traceparent() -> str | None:
    return _current.get()


@contextmanager
def traced(traceparent: str | None) -> Iterator[str]:
    """Work under ``traceparent`` (a valid one; else a new trace) for the block."""
    value = traceparent if trace_id_of(traceparent) else new_traceparent()
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


def telemetry_middleware(service: str, exporter: str, endpoint: str, provider: Any = None) -> Any:
    """FastStream's OpenTelemetry middleware, exporting spans to stderr or OTLP/HTTP.

    ``provider`` replaces the exporter-backed one (tests pass one with an in-memory exporter).
    """
    from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    if provider is None:
        provider = TracerProvider(resource=Resource.create({"service.name": f"newswire-{service}"}))
        if exporter == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        else:
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    return KafkaTelemetryMiddleware(tracer_provider=provider)
