"""Feed subscriptions: what a subscribe command does to a feed's state."""

from __future__ import annotations

from datetime import datetime, timedelta

from newswire_contracts import IngestFeed

from .schedule import PollTiming
from .store import FeedState

__all__ = ["subscribed_state"]


def subscribed_state(
    command: IngestFeed,
    existing: FeedState | None,
    *,
    partition: int,
    now: datetime,
    timing: PollTiming,
) -> FeedState:
    """A new feed is due at once; a re-subscription keeps its history and schedule.

    A shorter fixed interval on a re-subscription brings the next poll forward.
    """
    interval = int(timing.clamp(command.poll_interval_seconds or timing.default_seconds))
    if existing is None:
        return FeedState(
            id=command.feed_id,
            url=command.url,
            title=command.title,
            poll_interval_seconds=command.poll_interval_seconds,
            partition=partition,
            subscribed_at=now,
            next_fetch_at=now,
            interval_seconds=interval,
        )
    next_fetch_at = existing.next_fetch_at
    if command.poll_interval_seconds is not None:
        next_fetch_at = min(next_fetch_at, now + timedelta(seconds=interval))
    return existing.model_copy(
        update={
            "url": command.url,
            "title": command.title or existing.title,
            "poll_interval_seconds": command.poll_interval_seconds,
            "partition": partition,
            "next_fetch_at": next_fetch_at,
            "interval_seconds": interval
            if command.poll_interval_seconds
            else existing.interval_seconds,
        }
    )
