"""The article read model against the real MongoDB-wire store."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from newswire_contracts import ArticleEnriched, RelatedArticle, article_id
from newswire_contracts.readmodel import RELATIONS_COLLECTION, StoredStory
from newswire_relate.adapters.store import BULK_CHUNK, ArticleStore, StoryStore
from newswire_relate.domain.documents import Relations
from pymongo import AsyncMongoClient, monitoring

pytestmark = pytest.mark.integration

NOW = datetime(2026, 1, 1, tzinfo=UTC)
URL = "https://news.example/store-test"
NONE = Relations(related=(), story_id=None, duplicate_of=None)


@pytest.fixture
def store(scratch_database) -> tuple[ArticleStore, object]:  # type: ignore[no-untyped-def]
    return ArticleStore(scratch_database), scratch_database["articles"]


def article(version: int = 1, text: str = "Text one.", **fields: object) -> ArticleEnriched:
    return ArticleEnriched(
        id=article_id(URL),
        url=URL,
        source="News",
        title="Title",
        text=text,
        ingested_at=NOW,
        content_hash=f"{version:064x}" if text == "Text one." else "f" * 64,
        version=version,
        enriched_at=NOW,
        language="en",
        word_count=2,
        **fields,  # type: ignore[arg-type]
    )


async def test_first_save_creates_one_document(store) -> None:  # type: ignore[no-untyped-def]
    articles, collection = store
    result = await articles.save(article(), NONE, now=NOW)
    assert result.outcome == "created"
    document = await articles.get(article().id)
    assert document is not None
    assert document["url"] == URL
    assert document["language"] == "en"
    assert document["version"] == 1
    assert document["related"] == []
    assert document["story_id"] is None
    assert document["stored_at"] == NOW
    assert await collection.count_documents({}) == 1


async def test_redelivery_leaves_one_unchanged_document(store) -> None:  # type: ignore[no-untyped-def]
    articles, collection = store
    await articles.save(article(), NONE, now=NOW)
    again = await articles.save(article(), NONE, now=NOW + timedelta(minutes=5))
    assert again.outcome == "unchanged"
    assert await collection.count_documents({}) == 1


async def test_relations_are_updated_only_when_they_change(store) -> None:  # type: ignore[no-untyped-def]
    articles, _ = store
    await articles.save(article(), NONE, now=NOW)
    other = "https://news.example/other"
    related = Relations(
        related=(
            RelatedArticle(
                id=article_id(other),
                title="Other",
                url=other,
                source="News",
                published_at=NOW,
                score=0.5,
            ),
        ),
        story_id=article().id,
        duplicate_of=None,
    )
    assert await articles.update_relations(article().id, related, now=NOW) == 1
    assert await articles.update_relations(article().id, related, now=NOW) is None, (
        "same relations: no write"
    )
    document = await articles.get(article().id)
    assert document is not None
    assert [r["id"] for r in document["related"]] == [article_id(other)]
    assert document["story_id"] == article().id
    assert await articles.update_relations(article_id(other), related, now=NOW) is None, (
        "not stored yet: left alone"
    )


def related_to(other: str, story_id: str | None) -> Relations:
    return Relations(
        related=(
            RelatedArticle(
                id=article_id(other), title="Other", url=other, source="News", score=0.5
            ),
        ),
        story_id=story_id,
        duplicate_of=None,
    )


async def test_a_new_related_list_leaves_the_article_document_alone(
    store, scratch_database
) -> None:  # type: ignore[no-untyped-def]
    # A neighbour's arrival rewrites the small relations document, not the article.
    articles, collection = store
    await articles.save(article(), NONE, now=NOW)
    later = NOW + timedelta(minutes=1)
    assert (
        await articles.update_relations(
            article().id, related_to("https://news.example/other", None), now=later
        )
        == 1
    )
    raw = await collection.find_one({"_id": article().id})
    assert "related" not in raw
    assert raw["stored_at"] == NOW
    document = await articles.get(article().id)
    assert [r["url"] for r in document["related"]] == ["https://news.example/other"]
    assert document["stored_at"] == later


async def test_new_lists_written_together_reach_readers_and_leave_the_rest(
    store, scratch_database
) -> None:  # type: ignore[no-untyped-def]
    articles, _ = store
    stored = [
        article().model_copy(update={"id": article_id(f"{URL}/{n}"), "url": f"{URL}/{n}"})
        for n in range(3)
    ]
    for a in stored:
        await articles.save(a, related_to("https://news.example/first", "s" * 32), now=NOW)
    later = NOW + timedelta(minutes=1)
    missing = article_id(f"{URL}/never-stored")
    new = related_to("https://news.example/second", "s" * 32)
    found = await articles.set_related(
        [(stored[0].id, new), (missing, new), (stored[2].id, new)], now=later
    )
    assert found == [stored[0].id, stored[2].id]
    for a, expected in zip(stored, ["second", "first", "second"], strict=True):
        document = await articles.get(a.id)
        assert [r["url"] for r in document["related"]] == [f"https://news.example/{expected}"]
        assert document["story_id"] == "s" * 32
        assert document["version"] == 1
    assert (await articles.get(stored[0].id))["stored_at"] == later
    assert await scratch_database[RELATIONS_COLLECTION].find_one({"_id": missing}) is None
    assert await articles.set_related([], now=later) == []


class UpdateSizes(monitoring.CommandListener):
    def __init__(self) -> None:
        self.sizes: list[int] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "update":
            self.sizes.append(len(event.command["updates"]))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_many_new_lists_go_in_bulk_commands_the_local_store_can_take(
    scratch_database, infrastructure
) -> None:  # type: ignore[no-untyped-def]
    sizes = UpdateSizes()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        infrastructure.mongodb_url, tz_aware=True, event_listeners=[sizes]
    )
    try:
        articles = ArticleStore(client[scratch_database.name])
        stored = [
            article().model_copy(update={"id": article_id(f"{URL}/{n}"), "url": f"{URL}/{n}"})
            for n in range(40)
        ]
        for a in stored:
            await articles.save(a, NONE, now=NOW)
        new = related_to("https://news.example/second", None)
        found = await articles.set_related([(a.id, new) for a in stored], now=NOW)
        assert found == [a.id for a in stored]
        assert sizes.sizes == [BULK_CHUNK, BULK_CHUNK, 40 - 2 * BULK_CHUNK]
        assert BULK_CHUNK <= 20  # what FerretDB 1.24 was seen to take
    finally:
        await client.close()


async def test_a_new_article_takes_over_a_relations_document_left_behind(
    store, scratch_database
) -> None:  # type: ignore[no-untyped-def]
    # A new article's relations are inserted; one left by an earlier life of the article (its
    # document removed by hand, a restored backup) is replaced, not kept.
    articles, _ = store
    await scratch_database[RELATIONS_COLLECTION].insert_one(
        {"_id": article().id, "version": 7, "related": [{"id": "old"}], "story_id": "old"}
    )
    result = await articles.save(article(), related_to("https://news.example/other", None), now=NOW)
    assert result.outcome == "created"
    document = await articles.get(article().id)
    assert document is not None
    assert [r["url"] for r in document["related"]] == ["https://news.example/other"]
    relations = await scratch_database[RELATIONS_COLLECTION].find_one({"_id": article().id})
    assert relations["version"] == 1
    assert relations["story_id"] is None


async def test_a_new_story_reaches_the_article_document_for_the_listings(store) -> None:  # type: ignore[no-untyped-def]
    articles, collection = store
    await articles.save(article(), NONE, now=NOW)
    relations = related_to("https://news.example/other", "b" * 32)
    assert await articles.update_relations(article().id, relations, now=NOW) == 1
    raw = await collection.find_one({"_id": article().id})
    assert raw["story_id"] == "b" * 32


async def test_a_refresh_that_died_halfway_is_finished_by_the_next(store, scratch_database) -> None:  # type: ignore[no-untyped-def]
    # The relations document took the new list, then the process died before the article
    # document took the new story: the same refresh again must write the story.
    articles, collection = store
    await articles.save(article(), NONE, now=NOW)
    relations = related_to("https://news.example/other", "b" * 32)
    half = [r.model_dump(mode="python") for r in relations.related]
    await scratch_database[RELATIONS_COLLECTION].update_one(
        {"_id": article().id}, {"$set": {"related": half}}
    )
    assert await articles.update_relations(article().id, relations, now=NOW) == 1
    assert (await collection.find_one({"_id": article().id}))["story_id"] == "b" * 32
    assert (await articles.get(article().id))["story_id"] == "b" * 32
    assert await articles.update_relations(article().id, relations, now=NOW) is None


async def test_a_story_write_that_died_halfway_is_redone_whatever_comes_next(
    store, scratch_database
) -> None:  # type: ignore[no-untyped-def]
    # The article document took story S2, then the process died before the relations document
    # said so; the story then went back to S1, as the relations document still has it. The
    # next refresh must still put S1 back into the article document.
    articles, collection = store
    s1, s2 = "b" * 32, "c" * 32
    relations = related_to("https://news.example/other", s1)
    await articles.save(article(), relations, now=NOW)
    await scratch_database[RELATIONS_COLLECTION].update_one(
        {"_id": article().id}, {"$set": {"listing_pending": True}}
    )
    await collection.update_one({"_id": article().id}, {"$set": {"story_id": s2}})
    assert await articles.update_relations(article().id, relations, now=NOW) == 1, (
        "what readers saw changed back: said"
    )
    assert (await collection.find_one({"_id": article().id}))["story_id"] == s1
    assert await articles.update_relations(article().id, relations, now=NOW) is None


async def test_an_article_stored_before_relations_were_kept_apart(store, scratch_database) -> None:  # type: ignore[no-untyped-def]
    # Written by an earlier relate: relations inside the article, no relations document.
    articles, collection = store
    await articles.save(article(), NONE, now=NOW)
    await scratch_database[RELATIONS_COLLECTION].delete_one({"_id": article().id})
    old = related_to("https://news.example/old", "c" * 32)
    await collection.update_one(
        {"_id": article().id},
        {
            "$set": {
                "related": [r.model_dump(mode="python") for r in old.related],
                "story_id": "c" * 32,
            }
        },
    )
    assert [r["url"] for r in (await articles.get(article().id))["related"]] == [
        "https://news.example/old"
    ]
    assert await articles.update_relations(article().id, old, now=NOW) is None, "unchanged"
    new = related_to("https://news.example/new", "c" * 32)
    assert await articles.update_relations(article().id, new, now=NOW) == 1
    assert [r["url"] for r in (await articles.get(article().id))["related"]] == [
        "https://news.example/new"
    ]


async def test_newer_versions_replace_and_older_ones_are_ignored(store) -> None:  # type: ignore[no-untyped-def]
    articles, _ = store
    await articles.save(article(version=2), NONE, now=NOW)
    assert (
        await articles.save(article(version=3, text="Text two."), NONE, now=NOW)
    ).outcome == "updated"
    stale = await articles.save(article(version=1), NONE, now=NOW)
    assert stale.outcome == "stale"
    assert stale.stored_version == 3
    document = await articles.get(article().id)
    assert document is not None
    assert document["version"] == 3
    assert document["text"] == "Text two."


def story(count: int, updated_at: datetime) -> StoredStory:
    return StoredStory(
        id="a" * 32,
        title="Crane delivered",
        first_seen=NOW,
        last_seen=NOW + timedelta(hours=count),
        article_count=count,
        updated_at=updated_at,
    )


async def test_a_story_is_rewritten_only_when_it_changes(scratch_database) -> None:  # type: ignore[no-untyped-def]
    stories = StoryStore(scratch_database)
    collection = scratch_database["stories"]
    assert await stories.save(story(1, NOW))
    assert await stories.save(story(2, NOW + timedelta(minutes=1)))
    stored = await stories.get("a" * 32)
    assert stored is not None
    assert stored.article_count == 2

    assert not await stories.save(story(2, NOW + timedelta(minutes=5))), "nothing changed"
    stored = await stories.get("a" * 32)
    assert stored is not None
    assert stored.updated_at == NOW + timedelta(minutes=1), "nor did its time"
    assert await collection.count_documents({}) == 1
