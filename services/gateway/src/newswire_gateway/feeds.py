"""Feeds: registered for ingest to poll, listed with how polling goes, removed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from newswire_contracts import IngestFeed, canonicalize_url, feed_id
from newswire_contracts.readmodel import FeedStatus

from .domain.errors import NotFound
from .domain.models import FeedRegistration
from .domain.paging import Page, page_of, position_of
from .state import GatewayState

__all__ = ["listing", "read", "register", "remove"]

FeedView = tuple[FeedRegistration, FeedStatus | None]
"""A registration with its polling status (None until ingest first schedules it)."""


async def register(
    gateway: GatewayState,
    url: str,
    *,
    title: str | None,
    poll_interval_seconds: int | None,
    interval_given: bool,
) -> tuple[FeedView, bool]:
    """Register a feed, or update its registration; True when it is new."""
    url = canonicalize_url(url)
    now = datetime.now(UTC)
    asked = FeedRegistration(
        id=feed_id(url),
        url=url,
        title=title,
        poll_interval_seconds=poll_interval_seconds,
        created_at=now,
        updated_at=now,
    )
    existing = await gateway.feeds.get(asked.id)
    registration = asked.renewing(existing, interval_given=interval_given)
    # The command first: a registration is only stored once ingest is sure to hear of it,
    # so a failed request leaves nothing behind and a retry completes it.
    await gateway.publisher.publish(
        IngestFeed(
            kind="feed",
            action="subscribe",
            feed_id=registration.id,
            url=url,
            title=registration.title,
            poll_interval_seconds=registration.poll_interval_seconds,
            requested_at=now,
        )
    )
    await gateway.feeds.save(registration)
    return (registration, await gateway.feeds.status(registration.id)), existing is None


async def listing(gateway: GatewayState, limit: int, cursor: str | None) -> Page[FeedView]:
    """A page of the registered feeds, oldest first, after the cursor's position."""
    registrations = await gateway.feeds.all()
    after = position_of(cursor)
    if after is not None:
        registrations = [r for r in registrations if (r.created_at, r.id) > after]
    page = page_of(registrations, limit, lambda r: (r.created_at, r.id))
    statuses = await asyncio.gather(*(gateway.feeds.status(r.id) for r in page.items))
    return Page(list(zip(page.items, statuses, strict=True)), page.next_cursor)


async def read(gateway: GatewayState, identifier: str) -> FeedView:
    registration = await _registered(gateway, identifier)
    return registration, await gateway.feeds.status(identifier)


async def remove(gateway: GatewayState, identifier: str) -> None:
    """Tell ingest to stop polling the feed, then forget it."""
    registration = await _registered(gateway, identifier)
    await gateway.publisher.publish(
        IngestFeed(
            kind="feed",
            action="unsubscribe",
            feed_id=identifier,
            url=registration.url,
            requested_at=datetime.now(UTC),
        )
    )
    await gateway.feeds.delete(identifier)


async def _registered(gateway: GatewayState, identifier: str) -> FeedRegistration:
    registration = await gateway.feeds.get(identifier)
    if registration is None:
        raise NotFound("feed", f"no feed {identifier}")
    return registration
