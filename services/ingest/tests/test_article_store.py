"""Writers of one article at once, against the real store: one article, one version, one
publication; a writer that dies after claiming is replaced by the next one; a publication
that fails leaves nothing behind.

Each writer has its own store client (as two ingest instances do); the publisher is a
recording stand-in (Kafka is exercised by the e2e tests and the soak test).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from newswire_contracts import ArticleIngested, derive_event_id
from newswire_ingest.adapters.article_store import ArticleVersions
from newswire_ingest.adapters.publishing import ArticleSink
from newswire_ingest.domain.articles import build_article
from newswire_ingest.domain.versions import Basis, VersionRecord
from pymongo import AsyncMongoClient, monitoring

pytestmark = pytest.mark.integration

URL = "https://news.example/2026/11/02/ministers"


class RecordingPublisher:
    def __init__(self, *, fail: bool = False) -> None:
        self.published: list[tuple[ArticleIngested, str]] = []
        self.fail = fail

    async def publish(self, event: ArticleIngested, *, event_id: str | None = None) -> None:
        await asyncio.sleep(0.01)  # a broker round trip: long enough for writers to overlap
        if self.fail:
            raise ConnectionError("broker unreachable")
        self.published.append((event, event_id or ""))


def article(
    text: str = "Ministers met in Brussels.",
    *,
    summary_only: bool = False,
    title: str = "Ministers meet",
) -> ArticleIngested:
    return build_article(
        url=URL,
        title=title,
        text=text,
        source="Wire",
        now=datetime.now(UTC),
        text_source="feed",
        summary_only=summary_only,
        feed_id="f" * 32,
    )


@pytest.fixture
async def clients(scratch_database, infrastructure) -> AsyncIterator[list[Any]]:  # type: ignore[no-untyped-def]
    """Four clients of the test's database, each with its own connection pool."""
    opened: list[AsyncMongoClient[dict[str, Any]]] = [
        AsyncMongoClient(infrastructure.mongodb_url, tz_aware=True) for _ in range(4)
    ]
    try:
        yield [client[scratch_database.name] for client in opened]
    finally:
        for client in opened:
            await client.close()


def sink(database: Any, publisher: RecordingPublisher, **options: Any) -> ArticleSink:
    return ArticleSink(publisher, ArticleVersions(database), lambda: datetime.now(UTC), **options)  # type: ignore[arg-type]


async def test_concurrent_writers_of_one_article_publish_it_once(clients: list[Any]) -> None:
    publisher = RecordingPublisher()
    writers = [sink(clients[n % 4], publisher) for n in range(12)]
    offers = await asyncio.gather(*(w.offer(article(), Basis.new()) for w in writers))
    assert Counter(o.outcome for o in offers) == {"new": 1, "unchanged": 11}
    assert [(e.version, e.id) for e, _ in publisher.published] == [(1, article().id)]
    assert {o.version for o in offers} == {1}


async def test_concurrent_feeds_with_different_renderings_make_one_version(
    clients: list[Any],
) -> None:
    """The RSS and the Atom feed of one blog: the same entry, one with a summary, the other
    with the full text, both new to their feeds, at once."""
    publisher = RecordingPublisher()
    summary = article("Ministers met.", summary_only=True)
    full = article("Ministers met in Brussels. " * 40)
    offers = await asyncio.gather(
        *(
            sink(clients[n % 4], publisher).offer(summary if n % 2 else full, Basis.new())
            for n in range(8)
        )
    )
    versions = [e for e, _ in publisher.published]
    # Either the full text came first (one version), or the summary did and a full text
    # upgraded it (two): never a version per writer.
    assert len(versions) in (1, 2)
    assert [e.version for e in versions] == list(range(1, len(versions) + 1))
    assert versions[-1].content_hash == full.content_hash
    assert not versions[-1].summary_only
    assert sum(o.published for o in offers) == len(versions)


async def test_concurrent_submissions_of_new_content_number_their_versions_once_each(
    clients: list[Any],
) -> None:
    publisher = RecordingPublisher()
    texts = [f"Text number {n}." for n in range(6)]
    await asyncio.gather(
        *(
            sink(clients[n % 4], publisher).offer(article(t), Basis.submission())
            for n, t in enumerate(texts)
        )
    )
    versions = Counter(e.version for e, _ in publisher.published)
    assert all(count == 1 for count in versions.values()), f"a version published twice: {versions}"
    assert sorted(versions) == list(range(1, len(versions) + 1))
    assert len(versions) >= 1


async def test_every_version_carries_when_the_first_was_ingested(clients: list[Any]) -> None:
    # Relate orders its stories by it: an edit must not move its article to the back.
    publisher = RecordingPublisher()
    first = article("Ministers met in Brussels.")
    await sink(clients[0], publisher).offer(first, Basis.submission())
    await asyncio.sleep(0.01)
    edit = article("Ministers met in Brussels and agreed.")
    await sink(clients[1], publisher).offer(edit, Basis.submission())
    await sink(clients[2], publisher).offer(article("Third text."), Basis.submission())
    events = [event for event, _ in publisher.published]
    assert [e.version for e in events] == [1, 2, 3]
    assert edit.ingested_at > first.ingested_at
    (when,) = {e.first_ingested_at for e in events}
    assert when is not None
    assert abs(when - first.ingested_at) < timedelta(milliseconds=1)


async def test_a_submitted_article_is_first_ingested_when_it_was_accepted(
    clients: list[Any],
) -> None:
    publisher = RecordingPublisher()
    accepted = datetime(2026, 11, 2, 9, 30, 0, 123000, tzinfo=UTC)
    submitted = article().model_copy(update={"first_ingested_at": accepted})
    await sink(clients[0], publisher).offer(submitted, Basis.submission())
    await sink(clients[1], publisher).offer(article("An edit."), Basis.submission())
    assert [(e.version, e.first_ingested_at) for e, _ in publisher.published] == [
        (1, accepted),
        (2, accepted),
    ]


async def test_a_claim_whose_writer_died_is_published_by_the_next_writer(
    clients: list[Any],
) -> None:
    versions = ArticleVersions(clients[0])
    dead = article()
    record = VersionRecord(
        article_id=dead.id,
        url=dead.url,
        version=1,
        content_hash=dead.content_hash,
        summary_only=False,
        edit_version=1,
        feed_id=dead.feed_id,
        published=False,
        claimed_at=datetime.now(UTC) - timedelta(seconds=600),
        event_id=derive_event_id(dead.id, "1", dead.content_hash),
    )
    assert await versions.claim(record, dead)  # ... and then the writer was killed
    assert not await versions.claim(record, dead), "a claim is taken once"

    publisher = RecordingPublisher()
    offered = await sink(clients[1], publisher, lease_seconds=60).offer(
        article("A later rendering."), Basis.new()
    )
    assert offered.outcome == "unchanged", "the claimed version stands"
    assert [(e.content_hash, event_id) for e, event_id in publisher.published] == [
        (dead.content_hash, record.event_id)
    ], "the dead writer's event, under its own id"
    latest = await versions.latest(dead.id)
    assert latest is not None
    assert latest.published


async def test_a_fresh_claim_is_waited_for_and_then_reported_pending(clients: list[Any]) -> None:
    versions = ArticleVersions(clients[0])
    held = article()
    record = VersionRecord(
        article_id=held.id, url=held.url, version=1, content_hash=held.content_hash,
        summary_only=False, edit_version=1, feed_id=None, published=False,
        claimed_at=datetime.now(UTC), event_id="e",
    )  # fmt: skip
    assert await versions.claim(record, held)
    publisher = RecordingPublisher()
    offered = await sink(clients[1], publisher, wait_seconds=0.3).offer(held, Basis.new())
    assert offered.outcome == "pending"
    assert publisher.published == []


async def test_a_publication_that_fails_releases_its_claim(clients: list[Any]) -> None:
    failing = RecordingPublisher(fail=True)
    with pytest.raises(ConnectionError):
        await sink(clients[0], failing).offer(article(), Basis.new())
    publisher = RecordingPublisher()
    offered = await sink(clients[1], publisher, wait_seconds=0).offer(article(), Basis.new())
    assert offered.outcome == "new", "claimed afresh at once, not after the lease"
    assert [e.version for e, _ in publisher.published] == [1]


async def test_an_article_ingested_before_claims_existed_continues_its_versions(
    clients: list[Any],
) -> None:
    old = article()
    await clients[0]["ingest_articles"].insert_one(
        {"_id": old.id, "url": old.url, "content_hash": old.content_hash, "version": 3,
         "last_seen": datetime.now(UTC), "sightings": 2}
    )  # fmt: skip
    publisher = RecordingPublisher()
    writer = sink(clients[1], publisher)
    assert (await writer.offer(old, Basis.submission())).outcome == "unchanged"
    changed = await writer.offer(article("New text."), Basis.submission())
    assert (changed.outcome, changed.version) == ("changed", 4)
    assert [e.version for e, _ in publisher.published] == [4]
    assert publisher.published[0][0].first_ingested_at is None, "unknown: its own time is read"


async def test_a_poll_and_a_submission_of_the_same_article_at_once_publish_it_once(
    clients: list[Any],
) -> None:
    publisher = RecordingPublisher()
    same = article("The ministers met in Brussels and agreed on the package.")
    offers = await asyncio.gather(
        sink(clients[0], publisher).offer(same, Basis.new()),
        sink(clients[1], publisher).offer(
            same.model_copy(update={"feed_id": None}), Basis.submission()
        ),
        sink(clients[2], publisher).offer(same, Basis.new()),
        sink(clients[3], publisher).offer(
            same.model_copy(update={"feed_id": None}), Basis.submission()
        ),
    )
    assert sorted(o.outcome for o in offers) == ["new", "unchanged", "unchanged", "unchanged"]
    assert [e.version for e, _ in publisher.published] == [1]


class CommandNames(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_a_new_article_costs_two_store_commands_and_a_repeat_changes_nothing(
    scratch_database, infrastructure
) -> None:  # type: ignore[no-untyped-def]
    commands = CommandNames()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        infrastructure.mongodb_url, tz_aware=True, event_listeners=[commands]
    )
    try:
        database = client[scratch_database.name]
        await database.command("ping")
        commands.names.clear()
        publisher = RecordingPublisher()
        writer = sink(database, publisher)
        first = await writer.offer(article(), Basis.submission())
        assert first.outcome == "new"
        # Once a process: is there a legacy head? Then the claim, marked published.
        assert commands.names == ["find", "insert", "update"]
        commands.names.clear()
        other = await writer.offer(
            article("Ministers met in Brussels again.", title="Ministers meet again").model_copy(
                update={"id": "b" * 32, "url": URL + "-again"}
            ),
            Basis.submission(),
        )
        assert other.outcome == "new"
        assert commands.names == ["insert", "update"]
        again = await sink(database, publisher).offer(article(), Basis.submission())
        assert again.outcome == "unchanged"
        assert [e.version for e, _ in publisher.published] == [1, 1]
    finally:
        await client.close()


async def test_a_later_version_is_numbered_after_the_head_by_a_fresh_writer(
    clients: list[Any],
) -> None:
    """Without legacy heads a writer skips the head: its claim of version 1 fails, and it
    finds the latest version from there."""
    publisher = RecordingPublisher()
    for n, text in enumerate(["First text.", "Second text.", "Third text."], start=1):
        offered = await sink(clients[n % 2], publisher).offer(article(text), Basis.submission())
        assert (offered.outcome, offered.version) == ("new" if n == 1 else "changed", n)
    assert await clients[0]["ingest_articles"].find_one({"_id": article().id}) is not None
    fresh = sink(clients[2], publisher)
    assert (await fresh.offer(article("Third text."), Basis.submission())).outcome == "unchanged"
    fourth = await sink(clients[3], publisher).offer(article("Fourth text."), Basis.submission())
    assert (fourth.outcome, fourth.version) == ("changed", 4)
    assert [e.version for e, _ in publisher.published] == [1, 2, 3, 4]
