"""Pages tried again in the background: an entry published with its feed's text keeps a
record on its feed until its page arrives, fails for good, or the attempts run out."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .schedule import with_jitter

__all__ = [
    "MAX_PENDING_PAGES",
    "PageBook",
    "PageRetryTiming",
    "PendingPage",
    "after_page_failure",
    "first_retry_at",
]

MAX_PENDING_PAGES = 500
"""Per feed; beyond it the oldest are dropped (a feed of 500 unreachable pages is a site down)."""


@dataclass(frozen=True)
class PageRetryTiming:
    """Backoff of page retries (IngestSettings' ``page_retry_*``)."""

    first_seconds: float
    max_seconds: float
    attempts: int
    """Page fetches at most, the one made during the poll included."""
    jitter_ratio: float = 0.1


class PendingPage(BaseModel):
    """An entry whose page is still wanted, and what the entry said (the article is rebuilt
    from this and the page, without the feed)."""

    model_config = ConfigDict(extra="ignore")

    link: str = Field(description="The entry's link: the page to fetch.")
    entry_id: str
    article_id: str
    article_url: str = Field(
        description="The published article's URL; the page's text is its next version."
    )
    basis_version: int = Field(description="The latest version when the retry was scheduled.")
    edit: bool = Field(default=False, description="Carries an edit held back for want of the page.")
    attempts: int = Field(default=1, description="Page fetches so far.")
    next_at: AwareDatetime
    last_error: str | None = None
    title: str | None = None
    published_at: AwareDatetime | None = None
    authors: list[str] = Field(default_factory=list)
    language: str | None = None
    image_url: str | None = None
    source: str | None = None


def after_page_failure(
    pending: PendingPage,
    *,
    error: str,
    retry_after: float | None,
    timing: PageRetryTiming,
    now: datetime,
    rng: random.Random,
) -> PendingPage | None:
    """The record after another failed attempt, or None when the attempts are used up.

    Doubling from ``first_seconds`` up to ``max_seconds``, and no sooner than the site's
    ``Retry-After``.
    """
    attempts = pending.attempts + 1
    if attempts >= timing.attempts:
        return None
    wait = min(timing.max_seconds, timing.first_seconds * 2 ** (attempts - 1))
    wait = max(with_jitter(wait, timing.jitter_ratio, rng), retry_after or 0.0)
    return pending.model_copy(
        update={
            "attempts": attempts,
            "next_at": now + timedelta(seconds=wait),
            "last_error": error[:500],
        }
    )


def first_retry_at(
    *, retry_after: float | None, timing: PageRetryTiming, now: datetime, rng: random.Random
) -> datetime:
    """When to try a page again after the first failure (the one made during the poll)."""
    wait = max(with_jitter(timing.first_seconds, timing.jitter_ratio, rng), retry_after or 0.0)
    return now + timedelta(seconds=wait)


class PageBook:
    """A feed's page retries during one visit, by entry: added, replaced, settled."""

    def __init__(self, pending: list[PendingPage]) -> None:
        self._pages = {page.entry_id: page for page in pending}
        self.changed = False

    def put(self, page: PendingPage) -> None:
        self._pages.pop(page.entry_id, None)  # re-added last: the newest
        self._pages[page.entry_id] = page
        self.changed = True

    def settle(self, entry_id: str) -> None:
        """The page came, failed for good, or is no longer wanted."""
        if self._pages.pop(entry_id, None) is not None:
            self.changed = True

    def due(self, now: datetime, *, skip: set[str] = frozenset()) -> list[PendingPage]:  # type: ignore[assignment]
        return [p for p in self._pages.values() if p.next_at <= now and p.entry_id not in skip]

    def listing(self) -> list[PendingPage]:
        """What the feed keeps: the newest MAX_PENDING_PAGES."""
        return list(self._pages.values())[-MAX_PENDING_PAGES:]
