"""The CloudEvents Kafka binding (binary mode)."""

from datetime import UTC, datetime

import pytest
from newswire_contracts import (
    ArticleIngested,
    ArticleRelated,
    IngestArticle,
    InvalidEventError,
    cloudevents,
)

pytestmark = pytest.mark.unit

NOW = datetime(2025, 7, 16, 10, 21, tzinfo=UTC)


def command() -> IngestArticle:
    return IngestArticle(url="https://news.example/a", text="Text", submitted_at=NOW)


def test_encode_sets_binary_mode_headers() -> None:
    encoded = cloudevents.encode(command(), source="/newswire/gateway", event_id="e-1", time=NOW)
    headers = dict(encoded.headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == b"e-1"
    assert headers["ce_source"] == b"/newswire/gateway"
    assert headers["ce_type"] == b"newswire.ingest.requested.v1"
    assert headers["ce_time"] == b"2025-07-16T10:21:00.000000Z"
    assert headers["content-type"] == b"application/json"
    assert encoded.topic == "ingest.requests"
    assert encoded.key == b"https://news.example/a"


def test_decode_returns_the_event_and_its_attributes() -> None:
    encoded = cloudevents.encode(command(), source="/newswire/gateway")
    event, meta = cloudevents.decode(IngestArticle, encoded.headers, encoded.value)
    assert event == command()
    assert meta.id == encoded.meta.id
    assert meta.type == IngestArticle.event_type
    assert meta.time.tzinfo is not None


def test_decode_accepts_headers_already_decoded_to_text() -> None:
    encoded = cloudevents.encode(command(), source="/s")
    as_text = {name: value.decode() for name, value in encoded.headers}
    assert cloudevents.decode(IngestArticle, as_text, encoded.value)[0] == command()


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h: h.pop("ce_id"), "missing CloudEvents headers: ce_id"),
        (lambda h: h.update(ce_type=b"newswire.ingest.requested.v2"), "expected event type"),
        (lambda h: h.update(ce_specversion=b"0.3"), "ce_specversion"),
        (lambda h: h.update({"content-type": b"text/plain"}), "content-type"),
        (lambda h: h.update(ce_time=b"yesterday"), "ce_time"),
        (lambda h: h.update(ce_source=b"\xff\xfe"), "not UTF-8"),
    ],
)
def test_bad_headers_are_named(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    encoded = cloudevents.encode(command(), source="/s")
    headers = dict(encoded.headers)
    mutate(headers)
    with pytest.raises(InvalidEventError, match=reason):
        cloudevents.decode(IngestArticle, headers, encoded.value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [(b"", "empty value"), (b"{not json", "invalid IngestArticle"), (b'{"url": 5}', "url")],
)
def test_bad_bodies_are_named(value: bytes, reason: str) -> None:
    headers = cloudevents.encode(command(), source="/s").headers
    with pytest.raises(InvalidEventError, match=reason):
        cloudevents.decode(IngestArticle, headers, value)


def test_derived_ids_repeat_for_the_same_cause_only() -> None:
    first = cloudevents.derive_event_id("e-1", ArticleIngested.event_type)
    assert first == cloudevents.derive_event_id("e-1", ArticleIngested.event_type)
    assert first != cloudevents.derive_event_id("e-2", ArticleIngested.event_type)
    assert first != cloudevents.derive_event_id("e-1", ArticleRelated.event_type)
