"""Relate's batch handling, without a broker: refresh requests coalesced, what an article
changed written again, dead letters last."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError
from newswire_contracts import ArticleEnriched, EventMeta, article_id, cloudevents
from newswire_platform import DeadLetterPolicy, Decoded, TransientError
from newswire_relate.adapters.store import SaveResult
from newswire_relate.domain.documents import relations_of
from newswire_relate.domain.relator import Relator
from newswire_relate.handlers import RelateDependencies, coalesce, flush_refreshes, on_batch
from newswire_relate.refresh import RefreshOwnership, RelateRefresh

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def request(kind: str, n: int, offset: int) -> Decoded[RelateRefresh]:
    record: ConsumerRecord[Any, Any] = ConsumerRecord(
        "relate.refresh", 0, offset, 0, 0, None, b"", None, 0, 0, []
    )
    meta = EventMeta(
        id=f"event-{offset}", source="/relate", type=RelateRefresh.event_type, time=NOW
    )
    return Decoded(RelateRefresh(kind=kind, id=f"{n:032x}", requested_at=NOW), meta, record)  # type: ignore[arg-type]


def test_each_article_and_story_is_refreshed_once_in_order_of_first_request() -> None:
    batch = [
        request("article", 1, 0),
        request("article", 2, 1),
        request("article", 1, 2),
        request("story", 1, 3),
        request("article", 2, 4),
        request("story", 1, 5),
    ]
    kept = coalesce(batch)
    assert [(r.event.kind, r.event.id[-1], r.record.offset) for r in kept] == [
        ("article", "1", 0),
        ("article", "2", 1),
        ("story", "1", 3),
    ]


class Fakes:
    """The index reader, the stores, the publisher and the dead-letter producer, recording."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def catch_up(self) -> None:
        self.calls.append("catch up")

    async def settle_stories(self) -> None:
        self.calls.append("settle stories")

    def indexed_at_start(self, partition: int, offset: int) -> bool:
        return False

    async def save(self, article: ArticleEnriched, *_: Any, now: datetime) -> SaveResult:
        self.calls.append(f"save {article.id}")
        return SaveResult("created", article.version)

    async def update_relations(self, article_id: str, *_: Any, now: datetime) -> int:
        self.calls.append(f"update {article_id}")
        return 1

    async def set_related(self, lists: list[tuple[str, Any]], *, now: datetime) -> list[str]:
        self.calls.append(f"set related {' '.join(sorted(i for i, _ in lists))}")
        return [i for i, _ in lists]

    async def publish(self, event: Any, *, event_id: str) -> None:
        self.calls.append(f"publish {getattr(event, 'kind', 'relations')} {event.id}")

    async def send(self, topic: str, record: Any, headers: Any, *, prefixed: bool = True) -> None:
        self.calls.append(f"dead letter {record.offset}")


def enriched(n: int) -> ArticleEnriched:
    url = f"https://news.example/handlers/{n}"
    text = "The port of Rotterdam took delivery of a new harbour crane on Monday morning. " * 5
    fields: dict[str, Any] = {
        "source": "S",
        "title": "Crane delivered",
        "content_hash": "a" * 64,
        "version": 1,
    }
    at = NOW + timedelta(hours=n)
    return ArticleEnriched(
        id=article_id(url), url=url, text=text, ingested_at=at, enriched_at=at, **fields
    )


def record(topic: str, offset: int, event: Any = None) -> ConsumerRecord[Any, Any]:
    """The event as the subscriber receives it; without one, a record that is no event."""
    value, headers = b"{", []
    if event is not None:
        encoded = cloudevents.encode(event, source="/test")
        value, headers = encoded.value, encoded.headers
    return ConsumerRecord(topic, 0, offset, 0, 0, None, value, None, 0, 0, headers)


async def test_a_batch_stores_articles_asks_for_refreshes_and_dead_letters_last() -> None:
    older, newer = enriched(1), enriched(2)
    relator = Relator()
    relator.add(older)
    relator.add(newer)
    fake = Fakes()
    policy = DeadLetterPolicy("relate", "relate.dlq", fake)  # type: ignore[arg-type]
    deps = RelateDependencies(relator, fake, fake, fake, fake, policy, "articles.enriched")  # type: ignore[arg-type]
    refresh = RelateRefresh(kind="article", id=older.id, requested_at=NOW)
    batch = [
        record("articles.enriched", 0, newer),
        record("articles.enriched", 1),
        record("relate.refresh", 2, refresh),
        record("relate.refresh", 3, refresh),
    ]
    await on_batch(batch, deps)
    assert fake.calls == [
        "catch up",
        "settle stories",  # everything indexed is in its story before any is read
        f"save {newer.id}",
        f"publish relations {newer.id}",
        f"publish article {older.id}",
        f"publish story {older.id}",  # a near-copy joins the story of its original
        f"update {older.id}",  # once for the two requests
        f"publish relations {older.id}",
        "dead letter 1",
    ]


async def test_refreshes_asked_by_several_articles_of_a_batch_are_published_once() -> None:
    older, first, second = enriched(1), enriched(2), enriched(3)
    relator = Relator()
    for article in (older, first, second):
        relator.add(article)
    fake = Fakes()
    policy = DeadLetterPolicy("relate", "relate.dlq", fake)  # type: ignore[arg-type]
    deps = RelateDependencies(relator, fake, fake, fake, fake, policy, "articles.enriched")  # type: ignore[arg-type]
    await on_batch(
        [record("articles.enriched", 0, first), record("articles.enriched", 1, second)], deps
    )
    refreshes = [c for c in fake.calls if c.startswith(("publish article", "publish story"))]
    assert f"publish article {older.id}" in refreshes, "both new articles changed its list"
    assert len(refreshes) == len(set(refreshes)), refreshes
    # Asked for after both articles were stored, not between them.
    assert fake.calls.index(f"save {second.id}") < fake.calls.index(refreshes[0])


class Stories:
    """The story store, recording into the same calls."""

    def __init__(self, fake: Fakes) -> None:
        self.fake = fake

    async def save(self, story: Any) -> bool:
        self.fake.calls.append(f"save story {story.id}")
        return True

    async def get(self, story_id: str) -> None:
        return None


class Summaries(Fakes):
    async def summary_of(self, article_id: str) -> str:
        return ""


async def owning(*partitions: int, count: int = 3) -> RefreshOwnership:
    owner = RefreshOwnership("relate.refresh")
    owner.set_partition_count(count)
    await owner.on_partitions_assigned(
        {TopicPartition("relate.refresh", p) for p in partitions}
        | {TopicPartition("articles.enriched", p) for p in range(count)}
    )
    return owner


def relate_deps(
    fake: Fakes, owner: RefreshOwnership, *articles: ArticleEnriched, defer: bool = False
) -> Any:
    relator = Relator()
    for article in articles:
        relator.add(article)
    policy = DeadLetterPolicy("relate", "relate.dlq", fake)  # type: ignore[arg-type]
    return RelateDependencies(
        relator,
        fake,
        fake,
        Stories(fake),
        fake,
        policy,
        "articles.enriched",
        owner=owner,  # type: ignore[arg-type]
        defer_refreshes=defer,
    )


async def test_refreshes_that_would_come_back_here_are_done_in_the_batch() -> None:
    older, newer = enriched(1), enriched(2)
    fake = Summaries()
    deps = relate_deps(fake, await owning(0, 1, 2), older, newer)
    await on_batch([record("articles.enriched", 0, newer)], deps)
    assert fake.calls == [
        "catch up",
        "settle stories",
        f"save {newer.id}",
        f"publish relations {newer.id}",
        f"update {older.id}",  # no request through the topic: this instance owns them all
        f"publish relations {older.id}",
        f"save story {older.id}",
        f"publish relations {older.id}",  # the story's update, keyed by its id
    ]


async def test_refreshes_of_partitions_owned_elsewhere_are_asked_for() -> None:
    older, newer = enriched(1), enriched(2)
    mine = await owning(0, 1, 2)
    assert mine.owns(older.id)
    theirs = {p for p in range(3) if not (await owning(p)).owns(older.id)}
    fake = Summaries()
    deps = relate_deps(fake, await owning(*theirs), older, newer)
    await on_batch([record("articles.enriched", 0, newer)], deps)
    assert f"publish article {older.id}" in fake.calls
    assert f"update {older.id}" not in fake.calls


async def test_a_refresh_failing_here_is_asked_for_instead() -> None:
    older, newer = enriched(1), enriched(2)

    class Failing(Summaries):
        async def update_relations(self, article_id: str, *_: Any, now: datetime) -> int:
            raise RuntimeError("store went away")

    fake = Failing()
    deps = relate_deps(fake, await owning(0, 1, 2), older, newer)
    await on_batch([record("articles.enriched", 0, newer)], deps)
    assert f"publish article {older.id}" in fake.calls, "retried through the topic"
    assert f"save story {older.id}" in fake.calls, "the story was still refreshed here"


async def test_what_changed_here_before_a_batch_and_no_request_named_is_written_again() -> None:
    older, newer, third = enriched(1), enriched(2), enriched(3)
    fake = Summaries()
    deps = relate_deps(fake, await owning(0, 1, 2), older)
    deps.relator.written(older.id)  # this instance wrote it earlier
    # Another instance's article reaches this view (the reader) and changes it; its handler,
    # elsewhere, might not ask for the older one (see Relator).
    deps.relator.add(newer)
    refresh = RelateRefresh(kind="article", id=third.id, requested_at=NOW)
    await on_batch([record("relate.refresh", 0, refresh), record("relate.refresh", 1)], deps)
    assert fake.calls[-3:] == [
        f"update {older.id}",
        f"publish relations {older.id}",
        "dead letter 1",  # still last
    ]
    fake.calls.clear()
    await on_batch([record("relate.refresh", 2, refresh)], deps)
    assert f"update {older.id}" not in fake.calls, "written again once"


class StoryShown(Stories):
    """The story store, keeping each story's summary as it would be shown."""

    def __init__(self, fake: Fakes) -> None:
        super().__init__(fake)
        self.summaries: dict[str, str] = {}

    async def save(self, story: Any) -> bool:
        self.summaries[story.id] = story.summary
        return await super().save(story)


class ReadBack(Summaries):
    async def summary_of(self, article_id: str) -> str:
        self.calls.append(f"read summary {article_id}")
        return "As stored."


@pytest.mark.parametrize("kept", [20_000, 1])
async def test_a_story_shows_its_representatives_summary_read_back_only_when_not_kept(
    kept: int,
) -> None:
    older, newer = enriched(1), enriched(2)
    fake = ReadBack()
    relator = Relator(summaries_kept=kept)
    for article in (older, newer):
        relator.add(article)
    shown = StoryShown(fake)
    deps = replace(relate_deps(fake, await owning(0, 1, 2)), relator=relator, stories=shown)
    await on_batch([record("articles.enriched", 0, newer)], deps)
    representative = relator.story(older.id)
    assert representative is not None
    reads = [call for call in fake.calls if call.startswith("read summary")]
    if kept > 1:
        assert reads == [], "the summary came with the article"
        assert shown.summaries[older.id] == " ".join(older.text.split())  # short: whole
    else:  # only the latest article's is kept: the representative's is read back
        assert reads == [f"read summary {representative.representative}"]
        assert shown.summaries[older.id] == "As stored."


async def test_a_refresh_that_would_store_what_this_instance_stored_last_writes_nothing() -> None:
    older, newer = enriched(1), enriched(2)
    fake = Summaries()
    deps = relate_deps(fake, await owning(0, 1, 2), older, newer)
    await on_batch(
        [record("articles.enriched", 0, older), record("articles.enriched", 1, newer)], deps
    )
    assert f"save {newer.id}" in fake.calls
    fake.calls.clear()
    # Asked again with nothing new in between: the store holds exactly this, written here.
    again = RelateRefresh(kind="article", id=newer.id, requested_at=NOW)
    await on_batch([record("relate.refresh", 2, again)], deps)
    assert f"update {newer.id}" not in fake.calls
    assert f"publish relations {newer.id}" not in fake.calls
    # A third article related to both changes what the refresh would store: written.
    third = enriched(3)
    deps.relator.add(third)
    await on_batch([record("relate.refresh", 3, again)], deps)
    assert f"update {newer.id}" in fake.calls
    fake.calls.clear()
    await on_batch([record("relate.refresh", 4, again)], deps)
    assert f"update {newer.id}" not in fake.calls, "and remembered once written"


async def test_after_a_rebalance_the_store_decides_again() -> None:
    older, newer = enriched(1), enriched(2)
    fake = Summaries()
    deps = relate_deps(fake, await owning(0, 1, 2), older, newer)
    await on_batch([record("articles.enriched", 0, newer)], deps)
    # The partitions went elsewhere and came back: another instance may have written it.
    await deps.owner.on_partitions_revoked(set())
    await deps.owner.on_partitions_assigned(set())
    fake.calls.clear()
    again = RelateRefresh(kind="article", id=newer.id, requested_at=NOW)
    await on_batch([record("relate.refresh", 1, again)], deps)
    assert f"update {newer.id}" in fake.calls


async def test_a_failed_store_write_leaves_nothing_remembered() -> None:
    older, newer = enriched(1), enriched(2)

    class FailingSave(Summaries):
        async def save(self, article: ArticleEnriched, *_: Any, now: datetime) -> SaveResult:
            raise RuntimeError("store went away")

    fake = FailingSave()
    deps = relate_deps(fake, await owning(0, 1, 2), older, newer)
    await on_batch([record("articles.enriched", 0, newer)], deps)
    fake.calls.clear()
    again = RelateRefresh(kind="article", id=newer.id, requested_at=NOW)
    await on_batch([record("relate.refresh", 1, again)], deps)
    assert f"update {newer.id}" in fake.calls


async def test_deferred_refreshes_wait_for_the_flush_and_are_done_once_for_many_batches() -> None:
    older, first, second = enriched(1), enriched(2), enriched(3)
    fake = Summaries()
    deps = relate_deps(fake, await owning(0, 1, 2), older, first, second, defer=True)
    await on_batch([record("articles.enriched", 0, first)], deps)
    await on_batch([record("articles.enriched", 1, second)], deps)
    assert f"publish relations {first.id}" in fake.calls, "each article's own, at once"
    assert f"publish relations {second.id}" in fake.calls
    assert f"update {older.id}" not in fake.calls, "the older one's wait for the flush"
    fake.calls.clear()
    await flush_refreshes(deps)
    assert fake.calls.count(f"update {older.id}") == 1, fake.calls
    assert fake.calls.count(f"publish relations {older.id}") == 2, "its list and its story"
    assert fake.calls.count(f"save story {older.id}") == 1
    fake.calls.clear()
    await flush_refreshes(deps)
    assert fake.calls == [], "nothing left"


async def test_a_flush_that_fails_keeps_its_refreshes_for_the_next() -> None:
    older, newer = enriched(1), enriched(2)

    class Down(Summaries):
        down = True

        async def update_relations(self, article_id: str, *_: Any, now: datetime) -> int:
            if self.down:
                raise RuntimeError("store went away")
            return await super().update_relations(article_id, now=now)

        async def publish(self, event: Any, *, event_id: str) -> None:
            if self.down and isinstance(event, RelateRefresh):
                raise KafkaConnectionError("broker went away")
            await super().publish(event, event_id=event_id)

    fake = Down()
    deps = relate_deps(fake, await owning(0, 1, 2), older, newer, defer=True)
    await on_batch([record("articles.enriched", 0, newer)], deps)
    with pytest.raises(TransientError):
        await flush_refreshes(deps)
    assert f"update {older.id}" not in fake.calls
    fake.down = False
    await flush_refreshes(deps)
    assert f"update {older.id}" in fake.calls
    assert f"publish relations {older.id}" in fake.calls


async def test_with_deferred_refreshes_what_changed_here_is_written_again_at_the_flush() -> None:
    older, newer, third = enriched(1), enriched(2), enriched(3)
    fake = Summaries()
    deps = relate_deps(fake, await owning(0, 1, 2), older, defer=True)
    deps.relator.written(older.id)  # this instance wrote it earlier
    deps.relator.add(newer)  # another instance's article reaches this view and changes it
    refresh = RelateRefresh(kind="article", id=third.id, requested_at=NOW)
    await on_batch([record("relate.refresh", 0, refresh)], deps)
    assert f"update {older.id}" not in fake.calls, "not after each batch"
    await flush_refreshes(deps)
    assert f"update {older.id}" in fake.calls, "before the commit"


async def test_articles_stored_here_whose_lists_alone_change_are_written_in_one_write() -> None:
    first, second, third = enriched(1), enriched(2), enriched(3)
    fake = Summaries()
    deps = relate_deps(fake, await owning(0, 1, 2), first)
    await on_batch([record("articles.enriched", 0, first)], deps)
    deps.relator.add(second)
    deps.relator.add(third)
    fake.calls.clear()
    await on_batch(
        [record("articles.enriched", 1, second), record("articles.enriched", 2, third)], deps
    )
    lists = [call for call in fake.calls if call.startswith(("set related", "update"))]
    # Still in the story and duplicate state this instance stored: no read, one write.
    assert lists == [f"set related {first.id}"]
    # Its event, and the story's (keyed by the story's id, the first article's).
    assert fake.calls.count(f"publish relations {first.id}") == 2
    # Their events carry the versions stored, and the lists are remembered as written.
    assert deps.written.same(first.id, relations_of(deps.relator, first.id))
    assert deps.written.stored(first.id).version == first.version


async def stored_then_joined(fake: Fakes) -> tuple[Any, ArticleEnriched]:
    """The first article stored here, then a second of its story handled: the first's list
    changes, its story and duplicate do not."""
    first, second = enriched(1), enriched(2)
    deps = relate_deps(fake, await owning(0, 1, 2), first)
    await on_batch([record("articles.enriched", 0, first)], deps)
    deps.relator.add(second)
    fake.calls.clear()
    await on_batch([record("articles.enriched", 1, second)], deps)
    return deps, first


async def test_a_list_written_together_that_fails_is_asked_for_through_the_topic() -> None:
    class Failing(Summaries):
        async def set_related(self, lists: list[tuple[str, Any]], *, now: datetime) -> list[str]:
            raise RuntimeError("store went away")

    fake = Failing()
    deps, first = await stored_then_joined(fake)
    assert f"publish article {first.id}" in fake.calls, "retried through the topic"
    assert fake.calls.count(f"publish relations {first.id}") == 1, "the story's alone"
    assert deps.written.stored(first.id) is None, "no longer known as stored"


async def test_an_article_the_store_no_longer_holds_is_not_announced() -> None:
    class Gone(Summaries):
        async def set_related(self, lists: list[tuple[str, Any]], *, now: datetime) -> list[str]:
            self.calls.append("set related")
            return []

    fake = Gone()
    _, first = await stored_then_joined(fake)
    assert "set related" in fake.calls
    assert fake.calls.count(f"publish relations {first.id}") == 1, "the story's alone"
    assert f"publish article {first.id}" not in fake.calls


async def test_an_article_whose_story_changes_is_written_alone() -> None:
    first, second = enriched(1), enriched(2)
    fake = Summaries()
    deps = relate_deps(fake, await owning(0, 1, 2), first)
    await on_batch([record("articles.enriched", 0, first)], deps)
    stored = deps.written.stored(first.id)
    # As if this instance had stored it in another story: the listings must change too.
    deps.written.remember(
        first.id, replace(relations_of(deps.relator, first.id), story_id=None), stored.version
    )
    deps.relator.add(second)
    fake.calls.clear()
    await on_batch([record("articles.enriched", 1, second)], deps)
    assert f"update {first.id}" in fake.calls
    assert not [call for call in fake.calls if call.startswith("set related")]
