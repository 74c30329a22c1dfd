"""The read model in MongoDB that relate alone writes: articles, their aliases, stories."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from newswire_contracts import ArticleEnriched, RelatedArticle
from newswire_contracts.readmodel import (
    ALIASES_COLLECTION,
    ARTICLES_COLLECTION,
    STORIES_COLLECTION,
    StoredStory,
    article_document,
)
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

__all__ = ["ArticleStore", "Relations", "SaveResult", "StoryStore"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SaveResult:
    outcome: Literal["created", "updated", "unchanged", "stale"]
    stored_version: int


@dataclass(frozen=True, slots=True)
class Relations:
    """What relate computes for an article, as stored with it."""

    related: tuple[RelatedArticle, ...]
    story_id: str | None
    duplicate_of: str | None

    def fields(self) -> dict[str, Any]:
        return {
            "related": [_as_stored(item.model_dump(mode="python")) for item in self.related],
            "story_id": self.story_id,
            "duplicate_of": self.duplicate_of,
        }


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
    """

    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._articles: AsyncCollection[dict[str, Any]] = database[ARTICLES_COLLECTION]
        self._aliases: AsyncCollection[dict[str, Any]] = database[ALIASES_COLLECTION]

    async def save(
        self, article: ArticleEnriched, relations: Relations, *, now: datetime
    ) -> SaveResult:
        """Store the article with its relations unless a newer version is already there.

        Redelivery of the same version rewrites the same content (no duplicate, no
        regression); an older version is ignored.
        """
        await self._save_aliases(article)
        current = await self._articles.find_one(
            {"_id": article.id}, projection={"version": 1, "content_hash": 1}
        )
        fields = {**article_document(article), **relations.fields(), "stored_at": now}
        if current is None:
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
        unchanged = (
            current["version"] == article.version
            and current.get("content_hash") == article.content_hash
        )
        await self._articles.update_one({"_id": article.id}, {"$set": fields})
        return SaveResult("unchanged" if unchanged else "updated", article.version)

    async def update_relations(
        self, article_id: str, relations: Relations, *, now: datetime
    ) -> int | None:
        """Store new relations of a stored article; its version if they changed, else None.

        An article not stored yet is left alone: its own event writes it, with the
        relations of that moment.
        """
        current = await self._articles.find_one(
            {"_id": article_id},
            projection={"version": 1, "related": 1, "story_id": 1, "duplicate_of": 1},
        )
        if current is None:
            return None
        fields = relations.fields()
        if all(current.get(name) == value for name, value in fields.items()):
            return None
        await self._articles.update_one({"_id": article_id}, {"$set": {**fields, "stored_at": now}})
        return int(current["version"])

    async def _save_aliases(self, article: ArticleEnriched) -> None:
        # Before the article itself: once the article is readable, so are its aliases.
        for alias in article.aliases:
            await self._aliases.replace_one({"_id": alias}, {"article_id": article.id}, upsert=True)

    async def get(self, article_id: str) -> dict[str, Any] | None:
        return await self._articles.find_one({"_id": article_id})


class StoryStore:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._stories: AsyncCollection[dict[str, Any]] = database[STORIES_COLLECTION]

    async def save(self, story: StoredStory) -> bool:
        """Store the story; False when it was stored exactly so already."""
        current = await self._stories.find_one({"_id": story.id})
        document = _as_stored(story.document())
        if current is not None and {k: v for k, v in current.items() if k != "updated_at"} == {
            k: v for k, v in document.items() if k != "updated_at"
        }:
            return False
        await self._stories.replace_one({"_id": story.id}, document, upsert=True)
        return True

    async def get(self, story_id: str) -> StoredStory | None:
        document = await self._stories.find_one({"_id": story_id})
        return StoredStory.from_document(document) if document else None
