"""Trace propagation: W3C traceparent through messages, and OpenTelemetry when switched on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from faststream.kafka import TestKafkaBroker
from newswire_contracts import ArticleRelated, IngestArticle, article_id, cloudevents
from newswire_platform import DeadLetterPolicy, EventPublisher, create_broker, event_subscriber
from newswire_platform.settings import ServiceSettings
from newswire_platform.tracing import (
    child_of,
    current_traceparent,
    new_traceparent,
    trace_id_of,
    traced,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class Settings(ServiceSettings):
    @property
    def http_port(self) -> int:
        return 0


@pytest.mark.unit
def test_child_spans_keep_the_trace() -> None:
    parent = new_traceparent()
    child = child_of(parent)
    assert trace_id_of(child) == trace_id_of(parent)
    assert child != parent
    assert trace_id_of(child_of("garbage")) is not None, "a malformed parent starts a trace"
    assert trace_id_of(child_of("00-" + "0" * 32 + "-" + "1" * 16 + "-01")) != "0" * 32
    with traced("nonsense") as started:
        assert current_traceparent() == started
        assert trace_id_of(started)
    assert current_traceparent() is None


class Recording:
    async def send(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("nothing should be dead-lettered")


@pytest.mark.service
async def test_a_handled_message_passes_its_trace_on() -> None:
    settings = Settings()
    broker = create_broker(
        settings, middlewares=[DeadLetterPolicy("t", "t.dlq", Recording()).middleware]
    )  # type: ignore[arg-type]
    publisher = EventPublisher(broker, settings)
    seen: dict[str, str | None] = {}

    @event_subscriber(broker, settings, IngestArticle, description="t")
    async def first(command: IngestArticle) -> None:
        seen["first"] = current_traceparent()
        await publisher.publish(
            ArticleRelated(id=article_id(command.url), version=1, updated_at=datetime.now(UTC))
        )

    @event_subscriber(broker, settings, ArticleRelated, description="t")
    async def second(event: ArticleRelated) -> None:
        seen["second"] = current_traceparent()

    incoming = new_traceparent()
    command = IngestArticle(url="https://news.example/t", text="t", submitted_at=datetime.now(UTC))
    encoded = cloudevents.encode(command, source="/t", traceparent=incoming)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(
            encoded.value, "ingest.requests", headers={k: v.decode() for k, v in encoded.headers}
        )
    assert seen["first"] == incoming
    assert trace_id_of(seen["second"]) == trace_id_of(incoming), (
        "the next service works in the same trace"
    )
    assert seen["second"] != incoming, "as a child span"


@pytest.mark.service
async def test_opentelemetry_spans_when_switched_on() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = Settings()
    broker = create_broker(settings, tracer_provider=provider)
    publisher = EventPublisher(broker, settings, otel=True)

    @event_subscriber(broker, settings, IngestArticle, description="t")
    async def handler(command: IngestArticle) -> None:
        pass

    async with TestKafkaBroker(broker):
        await publisher.publish(
            IngestArticle(url="https://news.example/o", text="o", submitted_at=datetime.now(UTC))
        )
    spans = exporter.get_finished_spans()
    kinds = {span.kind.name for span in spans}
    assert {"PRODUCER", "CONSUMER"} <= kinds
    assert len({span.context.trace_id for span in spans}) == 1, "publish and consume in one trace"
