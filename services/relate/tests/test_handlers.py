"""Relate's batch handling, without a broker: refresh requests coalesced, failures sorted into
retried, dead-lettered and fatal-to-the-batch."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from newswire_contracts import EventMeta
from newswire_platform import DeadLetterPolicy, Decoded, PermanentError, TransientError
from newswire_relate.handlers import _attempt, coalesce
from newswire_relate.refresh import RelateRefresh

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def request(kind: str, n: int, offset: int) -> Decoded[RelateRefresh]:
    record: ConsumerRecord[Any, Any] = ConsumerRecord(
        "relate.refresh", 0, offset, 0, 0, None, b"", None, 0, 0, []
    )
    meta = EventMeta(
        id=f"event-{offset}", source="/relate", type=RelateRefresh.event_type, time=NOW
    )
    return Decoded(RelateRefresh(kind=kind, id=f"{n:032x}", requested_at=NOW), meta, record)  # type: ignore[arg-type]


def test_each_article_and_story_is_refreshed_once_in_order_of_first_request() -> None:
    batch = [
        request("article", 1, 0),
        request("article", 2, 1),
        request("article", 1, 2),
        request("story", 1, 3),
        request("article", 2, 4),
        request("story", 1, 5),
    ]
    kept = coalesce(batch)
    assert [(r.event.kind, r.event.id[-1], r.record.offset) for r in kept] == [
        ("article", "1", 0),
        ("article", "2", 1),
        ("story", "1", 3),
    ]


class Flaky:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)


def policy() -> DeadLetterPolicy:
    async def no_wait(_: float) -> None:
        return None

    return DeadLetterPolicy(
        service="relate",
        dead_letter_topic="relate.dlq",
        producer=None,
        max_attempts=3,
        sleep=no_wait,  # type: ignore[arg-type]
    )


RECORD: ConsumerRecord[Any, Any] = ConsumerRecord(
    "articles.enriched", 0, 7, 0, 0, None, b"", None, 0, 0, []
)


async def test_a_passing_failure_is_retried_until_it_works() -> None:
    work, failed = Flaky([RuntimeError("hiccup"), RuntimeError("hiccup")]), []
    await _attempt(work, RECORD, policy(), failed)
    assert work.calls == 3
    assert failed == []


async def test_a_failure_that_persists_is_set_aside_with_its_attempts() -> None:
    work, failed = Flaky([RuntimeError("bug")] * 5), []
    await _attempt(work, RECORD, policy(), failed)
    assert work.calls == 3
    assert [(r.offset, type(e).__name__, n) for r, e, n in failed] == [(7, "RuntimeError", 3)]


async def test_a_permanent_error_is_set_aside_at_once() -> None:
    work, failed = Flaky([PermanentError("never")]), []
    await _attempt(work, RECORD, policy(), failed)
    assert work.calls == 1
    assert [n for _, _, n in failed] == [1]


async def test_an_unreachable_dependency_fails_the_whole_batch() -> None:
    work, failed = Flaky([TransientError("store down")]), []
    with pytest.raises(TransientError):
        await _attempt(work, RECORD, policy(), failed)
    assert failed == []
