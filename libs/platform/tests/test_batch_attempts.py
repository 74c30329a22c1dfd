"""A batch handler's per-message attempts: failures sorted into retried, set aside for the
dead-letter topic, and fatal to the whole batch."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import ConsumerRecord
from newswire_platform import DeadLetterPolicy, PermanentError, TransientError

pytestmark = pytest.mark.unit


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
        service="test",
        dead_letter_topic="test.dlq",
        producer=None,
        max_attempts=3,
        sleep=no_wait,  # type: ignore[arg-type]
    )


RECORD: ConsumerRecord[Any, Any] = ConsumerRecord(
    "articles.enriched", 0, 7, 0, 0, None, b"", None, 0, 0, []
)


async def test_a_passing_failure_is_retried_until_it_works() -> None:
    work = Flaky([RuntimeError("hiccup"), RuntimeError("hiccup")])
    failed = await policy().attempt(work, RECORD)
    assert work.calls == 3
    assert failed is None


async def test_a_failure_that_persists_is_set_aside_with_its_attempts() -> None:
    work = Flaky([RuntimeError("bug")] * 5)
    failed = await policy().attempt(work, RECORD)
    assert work.calls == 3
    assert failed is not None
    assert (type(failed[0]).__name__, failed[1]) == ("RuntimeError", 3)


async def test_a_permanent_error_is_set_aside_at_once() -> None:
    work = Flaky([PermanentError("never")])
    failed = await policy().attempt(work, RECORD)
    assert work.calls == 1
    assert failed is not None
    assert failed[1] == 1


async def test_an_unreachable_dependency_fails_the_whole_batch() -> None:
    work = Flaky([TransientError("store down")])
    with pytest.raises(TransientError):
        await policy().attempt(work, RECORD)
    assert work.calls == 1
