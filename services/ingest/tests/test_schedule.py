"""When feeds are polled next: adaptive intervals, server hints, backoff, jitter."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from newswire_contracts import IngestFeed
from newswire_ingest.domain.feed_state import subscribed_state
from newswire_ingest.domain.schedule import (
    PollTiming,
    adaptive_interval,
    after_failure,
    after_success,
    with_jitter,
)

from tests.feed_samples import subscribe_command

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
TIMING = PollTiming(
    default_seconds=900,
    min_seconds=300,
    max_seconds=86_400,
    max_backoff_seconds=86_400,
    jitter_ratio=0.0,
)


def hours_ago(*hours: float) -> list[datetime]:
    return [NOW - timedelta(hours=h) for h in hours]


def test_adaptive_interval_follows_publishing_frequency() -> None:
    assert adaptive_interval([], NOW, 900) == 900, "no dates: the default"
    assert adaptive_interval(hours_ago(*range(50)), NOW, 900) == 3600, "hourly feed"
    assert adaptive_interval(hours_ago(*[i / 4 for i in range(50)]), NOW, 900) == 900, (
        "busy feed, 50 shown"
    )
    assert adaptive_interval(hours_ago(24, 72), NOW, 900) == 48 * 3600
    assert adaptive_interval(hours_ago(24 * 30), NOW, 900) == 7 * 86_400, "quiet feed"
    assert adaptive_interval(hours_ago(5), NOW, 900) == 900, "one entry says little"


def next_after_success(**kwargs: object) -> tuple[datetime, int]:
    arguments: dict[str, object] = {
        "fixed_seconds": None,
        "entry_times": [],
        "server_hints": (),
        "now": NOW,
        "rng": random.Random(1),
    } | kwargs
    return after_success(TIMING, **arguments)  # type: ignore[arg-type]


def test_success_is_clamped_between_bounds() -> None:
    assert next_after_success(entry_times=hours_ago(*[i / 60 for i in range(50)]))[1] == 300, (
        "a minute apart"
    )
    assert next_after_success(entry_times=hours_ago(24 * 60))[1] == 86_400, "quiet: the maximum"


def test_server_hints_can_only_lengthen_the_interval() -> None:
    # RSS ttl of 1 h, max-age of 2 h, Retry-After of 30 min: the largest wins, like Miniflux.
    when, interval = next_after_success(
        fixed_seconds=600, server_hints=(3600.0, 7200.0, 1800.0, None)
    )
    assert interval == 7200
    assert when == NOW + timedelta(seconds=7200)
    assert next_after_success(fixed_seconds=600, server_hints=(60.0,))[1] == 600


def test_failures_back_off_exponentially_up_to_the_cap() -> None:
    def wait(errors: int, retry_after: float | None = None) -> float:
        at = after_failure(
            TIMING,
            interval_seconds=900,
            error_count=errors,
            retry_after=retry_after,
            now=NOW,
            rng=random.Random(1),
        )
        return (at - NOW).total_seconds()

    assert [wait(n) for n in (1, 2, 3, 4)] == [900, 1800, 3600, 7200]
    assert wait(30) == 86_400, "capped, never given up"
    assert wait(1, retry_after=5000) == 5000, "Retry-After honoured"


def test_jitter_spreads_within_the_ratio() -> None:
    rng = random.Random(7)
    values = [with_jitter(1000, 0.1, rng) for _ in range(200)]
    assert min(values) >= 900
    assert max(values) <= 1100
    assert max(values) - min(values) > 100


def command(interval: int | None = None, title: str | None = None) -> IngestFeed:
    return subscribe_command(
        "https://news.example/feed.xml", at=NOW, title=title, interval=interval
    )


def test_a_new_feed_is_due_at_once_and_a_resubscription_keeps_its_history() -> None:
    new = subscribed_state(command(), None, partition=2, now=NOW, timing=TIMING)
    assert new.next_fetch_at == NOW
    assert new.partition == 2
    assert new.interval_seconds == 900
    polled = new.model_copy(
        update={"next_fetch_at": NOW + timedelta(hours=1), "entries_seen": 40, "etag": '"x"'}
    )
    again = subscribed_state(command(title="Wire"), polled, partition=2, now=NOW, timing=TIMING)
    assert again.entries_seen == 40
    assert again.etag == '"x"'
    assert again.title == "Wire"
    assert again.next_fetch_at == NOW + timedelta(hours=1)
    faster = subscribed_state(command(interval=600), polled, partition=2, now=NOW, timing=TIMING)
    assert faster.next_fetch_at == NOW + timedelta(seconds=600)
