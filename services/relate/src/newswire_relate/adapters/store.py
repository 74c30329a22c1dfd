"""The read model in MongoDB that relate alone writes: articles, their relations, their
aliases, stories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from newswire_contracts import ArticleEnriched
from newswire_contracts.readmodel import (
    ALIASES_COLLECTION,
    ARTICLES_COLLECTION,
    RELATIONS_COLLECTION,
    STORIES_COLLECTION,
    StoredStory,
    article_document,
    joined_article,
)
from newswire_platform import store_errors
from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from newswire_relate.domain.documents import Relations

__all__ = ["ArticleStore", "SaveResult", "StoryStore"]


@dataclass(frozen=True, slots=True)
class SaveResult:
    outcome: Literal["created", "updated", "unchanged", "stale"]
    stored_version: int


BULK_CHUNK = 16
"""Writes per bulk command. FerretDB 1.24 holds a connection of its pool for every update of a
bulk command until the command ends, and with about 100 it waits for itself and stops
answering every client until restarted (see the README's store notes); 20 were fine."""

_PENDING = "listing_pending"
"""Set on a relations document while its story and duplicate are being written to the
article document."""


def _related(relations: Relations) -> list[dict[str, Any]]:
    return [_as_stored(item.model_dump(mode="python")) for item in relations.related]


def _listed(relations: Relations) -> dict[str, Any]:
    """The relations the article document carries too: the listings filter on them."""
    return {"story_id": relations.story_id, "duplicate_of": relations.duplicate_of}


def _as_stored(value: Any) -> Any:
    """The value as the store gives it back (times to the millisecond), for comparisons."""
    if isinstance(value, datetime):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    if isinstance(value, dict):
        return {k: _as_stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_stored(v) for v in value]
    return value


class ArticleStore:
    """Idempotent, version-aware writes of articles, keyed by article id.

    Every call reads and writes by ``_id`` alone, the one filter FerretDB 1.24 answers from
    an index. One writer per article is guaranteed by Kafka: an article's events and its
    refresh requests share a key, hence a partition, hence one relate instance at a time.

    An article is two documents: the article (its content, and its story and duplicate for
    the listings) and its relations (related list, story, duplicate, and the version they
    were computed for), which every neighbour's arrival rewrites. The relations document's
    story and duplicate say what the article document holds: they are set only once it does,
    so a write that died between the two is finished by the next.
    """

    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._articles: AsyncCollection[dict[str, Any]] = database[ARTICLES_COLLECTION]
        self._relations: AsyncCollection[dict[str, Any]] = database[RELATIONS_COLLECTION]
        self._aliases: AsyncCollection[dict[str, Any]] = database[ALIASES_COLLECTION]

    async def save(
        self, article: ArticleEnriched, relations: Relations, *, now: datetime
    ) -> SaveResult:
        """Store the article with its relations unless a newer version is already there.

        Redelivery of the same version rewrites the same content (no duplicate, no
        regression); an older version is ignored.
        """
        fields = {**article_document(article), **_listed(relations), "stored_at": now}
        with store_errors():
            result = await self._save_article(article, fields)
            if result.outcome != "stale":
                # After the article: the story and duplicate it names are then the article's.
                relations_document = {
                    "version": article.version,
                    "related": _related(relations),
                    **_listed(relations),
                    "stored_at": now,
                }
                await self._write_relations(article.id, relations_document, result.outcome)
        return result

    async def _write_relations(
        self, article_id: str, document: dict[str, Any], outcome: str
    ) -> None:
        if outcome == "created":
            # A new article has no relations document yet: an insert is cheaper for the store
            # than an upsert, which looks for one first.
            try:
                await self._relations.insert_one({"_id": article_id, **document})
                return
            except DuplicateKeyError:
                pass  # one left by an earlier life of the article
        await self._relations.replace_one({"_id": article_id}, document, upsert=True)

    async def _save_article(self, article: ArticleEnriched, fields: dict[str, Any]) -> SaveResult:
        # Aliases first: once the article is readable, so are they.
        for alias in article.aliases:
            await self._aliases.replace_one({"_id": alias}, {"article_id": article.id}, upsert=True)
        # Insert first: a new article (the common case) costs one round trip, a redelivered
        # one an extra read.
        try:
            await self._articles.insert_one({"_id": article.id, **fields})
            return SaveResult("created", article.version)
        except DuplicateKeyError:
            current = await self._articles.find_one(
                {"_id": article.id}, projection={"version": 1, "content_hash": 1}
            )
            if current is None:
                raise
        if current["version"] > article.version:
            return SaveResult("stale", current["version"])
        await self._articles.update_one({"_id": article.id}, {"$set": fields})
        unchanged = (
            current["version"] == article.version
            and current.get("content_hash") == article.content_hash
        )
        return SaveResult("unchanged" if unchanged else "updated", article.version)

    async def update_relations(
        self, article_id: str, relations: Relations, *, now: datetime
    ) -> int | None:
        """Store new relations of a stored article; its version if they changed, else None.

        An article not stored yet is left alone: its own event writes it, with the
        relations of that moment.
        """
        related, listed = _related(relations), _listed(relations)
        with store_errors():
            # One round trip in the common case: the list written, answered with what was
            # there before (an unchanged one is written again, and nothing is published).
            before = await self._relations.find_one_and_update(
                {"_id": article_id},
                {"$set": {"related": related, "stored_at": now}},
                # No projection: FerretDB 1.24 does not implement one on findAndModify.
                return_document=ReturnDocument.BEFORE,
            )
            if before is None:
                before = await self._relations_of_older(article_id, related, now)
                if before is None:
                    return None
            pending = bool(before.get(_PENDING))
            listed_changed = any(before.get(k) != v for k, v in listed.items())
            if pending or listed_changed:
                # Marked first: a process that dies before the relations document says what
                # the article document holds leaves the mark, and the next refresh writes the
                # article document again, whatever story it then computes.
                await self._relations.update_one({"_id": article_id}, {"$set": {_PENDING: True}})
                await self._articles.update_one(
                    {"_id": article_id}, {"$set": {**listed, "stored_at": now}}
                )
                await self._relations.update_one(
                    {"_id": article_id}, {"$set": {**listed, _PENDING: False}}
                )
        if before.get("related") == related and not listed_changed and not pending:
            return None
        return int(before["version"])

    async def set_related(
        self, lists: Sequence[tuple[str, Relations]], *, now: datetime
    ) -> list[str]:
        """Write new related lists of stored articles whose story and duplicate stay as they
        are stored, in unordered bulk writes of BULK_CHUNK; the ids of those the store holds.

        For a writer that knows what is stored (WrittenRelations): unlike update_relations
        nothing is read, so nothing here tells a changed list from an unchanged one. On the
        local store a bulk write costs 1.05 ms of its CPU a document against 1.5 for a
        find-and-modify, and the client a seventh.
        """
        if not lists:
            return []
        writes = [
            UpdateOne(
                {"_id": article_id}, {"$set": {"related": _related(relations), "stored_at": now}}
            )
            for article_id, relations in lists
        ]
        ids = [article_id for article_id, _ in lists]
        with store_errors():
            matched = 0
            for at in range(0, len(writes), BULK_CHUNK):
                chunk = writes[at : at + BULK_CHUNK]
                matched += (await self._relations.bulk_write(chunk, ordered=False)).matched_count
            if matched == len(ids):
                return ids
            # Not all stored (removed by hand?): which ones, by _id.
            return [i for i in ids if await self._relations.find_one({"_id": i}, {"_id": 1})]

    async def _relations_of_older(
        self, article_id: str, related: list[dict[str, Any]], now: datetime
    ) -> dict[str, Any] | None:
        """For an article stored without a relations document (not stored yet: None; or
        stored before relations were kept apart): its relations as the article holds them,
        with the new list written to a relations document of its own."""
        article = await self._articles.find_one(
            {"_id": article_id},
            projection={"version": 1, "related": 1, "story_id": 1, "duplicate_of": 1},
        )
        if article is None:
            return None
        before = {k: article.get(k) for k in ("version", "related", "story_id", "duplicate_of")}
        await self._relations.replace_one(
            {"_id": article_id},
            {
                "version": article["version"],
                "related": related,
                "stored_at": now,
                "story_id": before["story_id"],
                "duplicate_of": before["duplicate_of"],
            },
            upsert=True,
        )
        return before

    async def get(self, article_id: str) -> dict[str, Any] | None:
        """The article as readers see it (with its relations)."""
        with store_errors():
            article = await self._articles.find_one({"_id": article_id})
            if article is None:
                return None
            return joined_article(article, await self._relations.find_one({"_id": article_id}))

    async def summary_of(self, article_id: str) -> str:
        """The stored article's summary ("" when it is not stored yet or has none)."""
        with store_errors():
            document = await self._articles.find_one(
                {"_id": article_id}, projection={"summary": 1, "text": 1}
            )
        if document is None:
            return ""
        return str(document.get("summary") or document.get("text", "")[:1000])


class StoryStore:
    """Stories by id, rewritten only when they change."""

    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._stories: AsyncCollection[dict[str, Any]] = database[STORIES_COLLECTION]

    async def save(self, story: StoredStory) -> bool:
        """Store the story; False when it was stored exactly so already."""
        document = _as_stored(story.document())
        with store_errors():
            # One round trip: the write, answered with what was there before it. A story
            # found unchanged (rare: only changed ones are refreshed) is put back as it was,
            # its time included; it has one writer, so nothing came in between.
            before = await self._stories.find_one_and_replace(
                {"_id": story.id}, document, upsert=True, return_document=ReturnDocument.BEFORE
            )
            if before is not None and _but_time(before) == _but_time(document):
                await self._stories.replace_one({"_id": story.id}, before)
                return False
        return True

    async def get(self, story_id: str) -> StoredStory | None:
        with store_errors():
            document = await self._stories.find_one({"_id": story_id})
        return StoredStory.from_document(document) if document else None


def _but_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "updated_at"}
