"""When to poll a feed next: adaptive intervals, server hints, backoff, jitter.

Follows Miniflux: the next poll is no sooner than the largest of RSS ``<ttl>``,
``Cache-Control: max-age``, ``Expires`` and ``Retry-After``, and the interval adapts to how
often the feed publishes. Unlike Miniflux, a failing feed is never given up on: it backs off
exponentially up to a cap and recovers by itself.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["PollTiming", "adaptive_interval", "after_failure", "after_success", "with_jitter"]

WEEK = 7 * 86_400


@dataclass(frozen=True)
class PollTiming:
    """The bounds an operator sets (from IngestSettings)."""

    default_seconds: int
    min_seconds: int
    max_seconds: int
    max_backoff_seconds: int
    jitter_ratio: float

    def clamp(self, seconds: float) -> float:
        return min(self.max_seconds, max(self.min_seconds, seconds))


def adaptive_interval(
    entry_times: Sequence[datetime], now: datetime, default_seconds: int
) -> float:
    """The average gap between the entries published in the last week.

    Only the latest entries are known (a feed shows a window, and we keep 50), so the rate
    comes from their spread rather than from a count per week: 50 entries over 12 hours
    mean a poll every quarter of an hour. Without two dated entries this week, the feed is
    quiet (a week) or undated (the default); the caller clamps the result.
    """
    if not entry_times:
        return default_seconds
    recent = sorted(t for t in entry_times if now - timedelta(seconds=WEEK) <= t <= now)
    if len(recent) < 2:
        return WEEK if not recent else default_seconds
    return (recent[-1] - recent[0]).total_seconds() / (len(recent) - 1)


def after_success(
    timing: PollTiming,
    *,
    fixed_seconds: int | None,
    entry_times: Sequence[datetime],
    server_hints: Sequence[float | None],
    now: datetime,
    rng: random.Random,
) -> tuple[datetime, int]:
    """(next poll time, interval in force) after a successful poll."""
    base = (
        fixed_seconds
        if fixed_seconds is not None
        else adaptive_interval(entry_times, now, timing.default_seconds)
    )
    hinted = max([base, *(h for h in server_hints if h is not None)])
    interval = timing.clamp(hinted)
    return now + timedelta(seconds=with_jitter(interval, timing.jitter_ratio, rng)), int(interval)


def after_failure(
    timing: PollTiming,
    *,
    interval_seconds: int,
    error_count: int,
    retry_after: float | None,
    now: datetime,
    rng: random.Random,
) -> datetime:
    """Next poll time after the ``error_count``-th consecutive failure: doubling, capped."""
    base = max(timing.min_seconds, interval_seconds)
    backoff = min(timing.max_backoff_seconds, base * 2 ** max(0, error_count - 1))
    wait = max(backoff, retry_after or 0.0)
    return now + timedelta(seconds=with_jitter(wait, timing.jitter_ratio, rng))


def with_jitter(seconds: float, ratio: float, rng: random.Random) -> float:
    """Spread polls of feeds added together, so they do not hit their hosts in step."""
    return seconds * (1.0 + rng.uniform(-ratio, ratio))
