"""A feed's state after a visit: every failure recorded with its step and backed off; page
retries kept, backed off and given up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from newswire_ingest.domain.feed_state import FeedState, PollOutcome, polled_state
from newswire_ingest.domain.page_retries import (
    PageBook,
    PageRetryTiming,
    PendingPage,
    after_page_failure,
    first_retry_at,
)
from newswire_ingest.domain.schedule import PollTiming

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
TIMING = PollTiming(
    default_seconds=600, min_seconds=300, max_seconds=3600, max_backoff_seconds=7200, jitter_ratio=0
)
PAGES = PageRetryTiming(first_seconds=60, max_seconds=600, attempts=4, jitter_ratio=0)


def feed(**fields: object) -> FeedState:
    base: dict[str, object] = {
        "id": "f" * 32,
        "url": "https://news.example/feed.xml",
        "partition": 0,
        "subscribed_at": NOW,
        "next_fetch_at": NOW,
        "interval_seconds": 600,
    }
    return FeedState.model_validate(base | fields)


def pending(entry: str = "a", *, at: datetime = NOW, attempts: int = 1) -> PendingPage:
    return PendingPage(
        link=f"https://news.example/{entry}",
        entry_id=entry * 32,
        article_id=entry * 32,
        article_url=f"https://news.example/{entry}",
        basis_version=1,
        attempts=attempts,
        next_at=at,
    )


def after(state: FeedState, outcome: PollOutcome) -> FeedState:
    return polled_state(state, outcome, timing=TIMING, now=NOW, rng=random.Random(1))


@pytest.mark.parametrize("step", ["fetch", "parse", "entries", "pages", "record", "poll"])
def test_a_failure_at_any_step_is_recorded_and_backed_off(step: str) -> None:
    state = after(feed(error_count=2), PollOutcome.failed(step, RuntimeError("boom")))
    assert state.last_error == "RuntimeError: boom"
    assert state.last_error_step == step
    assert state.error_count == 3
    assert state.next_fetch_at == NOW + timedelta(seconds=600 * 4), "doubling from the interval"
    assert state.last_fetch_at == NOW, "the feed shows it was tried"


def test_a_success_clears_the_error_and_its_step() -> None:
    failed = after(feed(), PollOutcome.failed("entries", "StoreUnavailable: down"))
    recovered = after(failed, PollOutcome(ok=True, status=200))
    assert recovered.last_error is None
    assert recovered.last_error_step is None
    assert recovered.error_count == 0
    assert recovered.next_fetch_at > NOW


def test_a_visit_for_pages_only_leaves_the_poll_schedule_alone() -> None:
    state = feed(next_fetch_at=NOW + timedelta(minutes=5), pending_pages=[pending()])
    visited = after(state, PollOutcome(ok=True, fetched=False, pending_pages=[]))
    assert visited.next_fetch_at == state.next_fetch_at
    assert visited.last_fetch_at is None
    assert visited.pending_pages == []
    assert visited.wake_at() == state.next_fetch_at


def test_the_feed_wakes_for_its_earliest_page() -> None:
    soon = NOW + timedelta(minutes=1)
    state = feed(next_fetch_at=NOW + timedelta(hours=1), pending_pages=[pending(at=soon)])
    assert state.wake_at() == soon
    assert state.pages_pending == 1
    assert not state.is_due(soon)


def test_page_retries_double_honour_retry_after_and_give_up() -> None:
    rng = random.Random(1)
    first = first_retry_at(retry_after=None, timing=PAGES, now=NOW, rng=rng)
    assert first == NOW + timedelta(seconds=60)
    assert first_retry_at(retry_after=900, timing=PAGES, now=NOW, rng=rng) == NOW + timedelta(
        seconds=900
    )
    second = after_page_failure(
        pending(), error="HTTP 503", retry_after=None, timing=PAGES, now=NOW, rng=rng
    )
    assert second is not None
    assert (second.attempts, second.next_at) == (2, NOW + timedelta(seconds=120))
    third = after_page_failure(second, error="x", retry_after=None, timing=PAGES, now=NOW, rng=rng)
    assert third is not None
    assert third.next_at == NOW + timedelta(seconds=240)
    assert (
        after_page_failure(third, error="x", retry_after=None, timing=PAGES, now=NOW, rng=rng)
        is None
    ), "the fourth failed fetch is the last"


def test_the_page_book_keeps_one_retry_per_entry() -> None:
    book = PageBook([pending("a"), pending("b", at=NOW + timedelta(hours=1))])
    assert [p.entry_id[0] for p in book.due(NOW)] == ["a"]
    assert book.due(NOW, skip={"a" * 32}) == []
    book.put(pending("a", attempts=3))
    assert [p.attempts for p in book.listing()] == [1, 3]
    book.settle("b" * 32)
    assert [p.entry_id[0] for p in book.listing()] == ["a"]
    assert book.changed
