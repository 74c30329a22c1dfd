"""Ingest's feed state in the real store: a subscription, a poll and the counts of what it
publishes never undo each other, even all at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from newswire_contracts import canonicalize_url, feed_id
from newswire_ingest.adapters.feed_store import FeedStore
from newswire_ingest.domain.feed_state import FeedState, subscribed_state
from newswire_ingest.domain.schedule import PollTiming

from tests.feed_samples import subscribe_command

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
URL = canonicalize_url("https://news.example/feed.xml")
TIMING = PollTiming(
    default_seconds=600, min_seconds=60, max_seconds=3600, max_backoff_seconds=3600, jitter_ratio=0
)


@pytest.fixture
def store(scratch_database) -> FeedStore:  # type: ignore[no-untyped-def]
    return FeedStore(scratch_database)


def polled(state: FeedState, *, etag: str) -> FeedState:
    """``state`` after a successful poll that read 3 entries."""
    return state.model_copy(
        update={
            "last_fetch_at": NOW + timedelta(minutes=1),
            "last_status": 200,
            "etag": etag,
            "entries_seen": state.entries_seen + 3,
            "next_fetch_at": NOW + timedelta(minutes=11),
        }
    )


async def subscribed(store: FeedStore, title: str | None) -> FeedState:
    existing = await store.get(feed_id(URL))
    state = subscribed_state(
        subscribe_command(URL, at=NOW, title=title), existing, partition=2, now=NOW, timing=TIMING
    )
    await store.subscribe(state)
    return state


async def test_a_new_subscription_is_stored_whole(store: FeedStore) -> None:
    state = await subscribed(store, "Wire")
    assert await store.get(state.id) == state


async def test_a_resubscription_during_a_poll_keeps_what_the_poll_found(store: FeedStore) -> None:
    before = await subscribed(store, "Wire")
    # The poll started from ``before``; a re-subscription renames the feed meanwhile.
    await subscribed(store, "Renamed")
    await store.count_published(before.id, ["a:1", "b:1"])
    await store.record_poll(before, polled(before, etag='"p1"'))
    stored = await store.get(before.id)
    assert stored is not None
    assert stored.title == "Renamed", "the poll did not undo the re-subscription"
    assert stored.articles_published == 1
    assert stored.recent_claims == ["a:1", "b:1"]
    assert stored.entries_seen == 3
    assert stored.etag == '"p1"'


async def test_a_poll_during_a_resubscription_is_not_undone_by_it(store: FeedStore) -> None:
    before = await subscribed(store, "Wire")
    await store.count_published(before.id, ["a:1"])
    await store.record_poll(before, polled(before, etag='"p1"'))
    stale = before.model_copy(update={"title": "Renamed"})  # built from a read before the poll
    await store.subscribe(stale)
    stored = await store.get(before.id)
    assert stored is not None
    assert stored.title == "Renamed"
    assert stored.articles_published == 1, "the re-subscription did not undo the count"
    assert stored.etag == '"p1"'


async def test_two_polls_add_their_counts(store: FeedStore) -> None:
    before = await subscribed(store, "Wire")
    first = polled(before, etag='"p1"')
    await store.record_poll(before, first)
    await store.record_poll(first, polled(first, etag='"p2"'))
    stored = await store.get(before.id)
    assert stored is not None
    assert stored.entries_seen == 6
    assert stored.etag == '"p2"'


async def test_counts_polls_and_subscriptions_all_at_once_lose_nothing(store: FeedStore) -> None:
    """The store (FerretDB 1.24) applies an update by reading the document and writing it back,
    so updates of one document at the same moment could lose each other: the feed store
    writes a feed one update at a time."""
    before = await subscribed(store, "Wire")
    claims = [f"{n:032x}:1" for n in range(30)]
    await asyncio.gather(
        *(store.count_published(before.id, claims[: n + 1]) for n in range(30)),
        store.record_poll(before, polled(before, etag='"p1"')),
        subscribed(store, "Renamed"),
    )
    stored = await store.get(before.id)
    assert stored is not None
    assert stored.articles_published == 30
    assert stored.recent_claims == claims
    assert stored.entries_seen == 3
    assert stored.etag == '"p1"'
    assert stored.title == "Renamed"


async def test_a_poll_of_a_feed_deleted_meanwhile_does_not_bring_it_back(
    store: FeedStore,
) -> None:
    before = await subscribed(store, "Wire")
    assert await store.delete(before.id)
    await store.record_poll(before, polled(before, etag='"p1"'))
    await store.count_published(before.id, ["a:1"])
    assert await store.get(before.id) is None
