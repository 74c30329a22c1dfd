"""A subscribed feed's state, and what changes it: a subscription, a poll's outcome."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from newswire_contracts import IngestFeed
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .page_retries import PendingPage
from .schedule import PollTiming, after_failure, after_success

__all__ = ["RECENT_CLAIMS", "FeedState", "PollOutcome", "polled_state", "subscribed_state"]

RECENT_CLAIMS = 200
"""Claims a feed remembers having counted (its window of entries, several times over)."""


class FeedState(BaseModel):
    """One subscribed feed: where it is, how polling it went, when it is next due."""

    model_config = ConfigDict(extra="ignore")

    id: str
    url: str
    title: str | None = None
    poll_interval_seconds: int | None = Field(default=None, description="Fixed interval, if set.")
    partition: int = Field(description="Partition of ingest.requests its commands arrive on.")
    subscribed_at: AwareDatetime
    next_fetch_at: AwareDatetime
    interval_seconds: int = Field(description="The interval in force (adaptive or fixed).")
    etag: str | None = None
    last_modified: str | None = None
    last_fetch_at: AwareDatetime | None = None
    last_success_at: AwareDatetime | None = None
    last_status: int | None = Field(default=None, description="HTTP status of the last fetch.")
    last_error: str | None = None
    last_error_step: str | None = Field(default=None, description="The step that failed.")
    error_count: int = Field(default=0, description="Consecutive failed polls.")
    entries_seen: int = Field(default=0, description="Entries read over all polls.")
    articles_published: int = Field(
        default=0, description="Versions this feed claimed and published, each counted once."
    )
    recent_claims: list[str] = Field(
        default_factory=list,
        description="The last claims counted in articles_published (so a claim published again "
        "after a crash is not counted twice).",
    )
    pending_pages: list[PendingPage] = Field(
        default_factory=list, description="Entries published with the feed's text, page wanted."
    )
    last_entry_error: str | None = None
    warnings: list[str] = Field(default_factory=list)
    feed_title: str | None = None
    site_url: str | None = None
    recent_entry_times: list[AwareDatetime] = Field(
        default_factory=list,
        description="Publication times of the latest entries (adaptive interval).",
    )

    @property
    def pages_pending(self) -> int:
        return len(self.pending_pages)

    def wake_at(self) -> datetime:
        """When the scheduler next has work for this feed: a poll, or a page to retry."""
        return min([self.next_fetch_at, *(p.next_at for p in self.pending_pages)])

    def is_due(self, now: datetime) -> bool:
        return self.next_fetch_at <= now


@dataclass
class PollOutcome:
    """What one poll found; ``polled_state`` turns it into the feed's new state.

    ``fetched`` is False for a visit that only retried pages (the feed was not due).
    """

    ok: bool
    status: int | None = None
    error: str | None = None
    error_step: str | None = None
    retry_after: float | None = None
    freshness: float | None = None
    ttl: float | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    entries_seen: int = 0
    published: int = 0
    entry_errors: int = 0
    last_entry_error: str | None = None
    entry_times: list[datetime] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    feed_title: str | None = None
    site_url: str | None = None
    fetched: bool = True
    pending_pages: list[PendingPage] | None = None
    """The feed's page retries after this visit; None leaves them as they were."""

    @classmethod
    def failed(cls, step: str, error: BaseException | str, **fields: object) -> PollOutcome:
        """A poll that failed at ``step`` (fetch, parse, entries, pages, record, poll)."""
        reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        return cls(ok=False, error=reason[:1_000], error_step=step, **fields)  # type: ignore[arg-type]


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


def polled_state(
    state: FeedState,
    outcome: PollOutcome,
    *,
    timing: PollTiming,
    now: datetime,
    rng: random.Random,
) -> FeedState:
    """The feed's state after a visit: status fields, page retries and the next poll time.

    A failed poll backs off whatever the step that failed, so no failure can leave a feed
    unscheduled. A visit that only retried pages changes only the page retries (and, if they
    failed for a reason of ours, the error fields).
    """
    fields: dict[str, object] = {}
    if outcome.pending_pages is not None:
        fields["pending_pages"] = outcome.pending_pages
    if not outcome.fetched:
        if not outcome.ok:
            fields |= {"last_error": outcome.error, "last_error_step": outcome.error_step}
        return state.model_copy(update=fields)
    fields |= {
        "last_fetch_at": now,
        "last_status": outcome.status,
        "entries_seen": state.entries_seen + outcome.entries_seen,
    }
    if outcome.entry_errors:
        fields["last_entry_error"] = outcome.last_entry_error
    if outcome.ok:
        entry_times = sorted({*outcome.entry_times, *state.recent_entry_times}, reverse=True)[:50]
        next_at, interval = after_success(
            timing,
            fixed_seconds=state.poll_interval_seconds,
            entry_times=entry_times,
            server_hints=(outcome.ttl, outcome.freshness, outcome.retry_after),
            now=now,
            rng=rng,
        )
        fields |= {
            "last_success_at": now,
            "last_error": None,
            "last_error_step": None,
            "error_count": 0,
            "etag": outcome.etag,
            "last_modified": outcome.last_modified,
            "recent_entry_times": entry_times,
            "next_fetch_at": next_at,
            "interval_seconds": interval,
            "warnings": outcome.warnings[:5],
            "feed_title": outcome.feed_title or state.feed_title,
            "site_url": outcome.site_url or state.site_url,
        }
    else:
        errors = state.error_count + 1
        fields |= {
            "last_error": outcome.error,
            "last_error_step": outcome.error_step or "fetch",
            "error_count": errors,
            "next_fetch_at": after_failure(
                timing,
                interval_seconds=state.interval_seconds,
                error_count=errors,
                retry_after=outcome.retry_after,
                now=now,
                rng=rng,
            ),
        }
    return state.model_copy(update=fields)
