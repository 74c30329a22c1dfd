"""The x-dlq-* headers: what the platform writes is what the CLI reads."""

from __future__ import annotations

import pytest
from newswire_contracts import dead_letters
from newswire_contracts.dead_letters import Failure

pytestmark = pytest.mark.unit


def test_a_failure_reads_back_as_written_after_the_original_headers() -> None:
    failure = Failure(
        "KeyError: 'x'",
        "KeyError",
        "enrich",
        3,
        "p.articles.ingested",
        2,
        40,
        17,
        "2026-01-01T00:00:01Z",
    )
    original = [("ce_id", b"e-1"), ("odd", b"\xff"), ("X-DLQ-Reason", b"an earlier failure")]
    headers = dead_letters.with_failure(original, failure)
    assert headers[:2] == original[:2]
    assert [name for name, _ in headers[2:]] == list(dead_letters.HEADERS)
    assert Failure.read(headers) == failure


def test_unreadable_headers_read_as_absent() -> None:
    failure = Failure.read([("x-dlq-attempts", b"many"), ("x-dlq-original-topic", b"\xff  ")])
    assert failure == Failure()
    assert Failure.read([("x-dlq-original-topic", b" t ")]).original_topic == "t"
