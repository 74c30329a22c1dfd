"""The article read model in MongoDB, which relate alone writes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from newswire_contracts import ArticleEnriched
from newswire_contracts.readmodel import ALIASES_COLLECTION, ARTICLES_COLLECTION, article_document
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

__all__ = ["ArticleStore", "SaveResult"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SaveResult:
    outcome: Literal["created", "updated", "unchanged", "stale"]
    stored_version: int


class ArticleStore:
    """Idempotent, version-aware writes of enriched articles, keyed by article id.

    Every call reads and writes by ``_id`` alone, the one filter FerretDB 1.24 answers from
    an index. One writer per article is guaranteed by Kafka: all events of an article share
    a key, hence a partition, hence one relate instance at a time.
    """

    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._articles: AsyncCollection[dict[str, Any]] = database[ARTICLES_COLLECTION]
        self._aliases: AsyncCollection[dict[str, Any]] = database[ALIASES_COLLECTION]

    async def save(self, article: ArticleEnriched, *, now: datetime) -> SaveResult:
        """Store the article unless a newer version is already there.

        Redelivery of the same version rewrites the same content (no duplicate, no
        regression); an older version is ignored.
        """
        await self._save_aliases(article)
        current = await self._articles.find_one(
            {"_id": article.id}, projection={"version": 1, "content_hash": 1}
        )
        fields = {**article_document(article), "stored_at": now}
        if current is None:
            try:
                # An explicit insert rather than an upsert with $setOnInsert: FerretDB 1.24
                # silently drops empty arrays and nulls given to $setOnInsert.
                await self._articles.insert_one(
                    {"_id": article.id, **fields, "related": [], "story_id": None}
                )
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

    async def _save_aliases(self, article: ArticleEnriched) -> None:
        # Before the article itself: once the article is readable, so are its aliases.
        for alias in article.aliases:
            await self._aliases.replace_one({"_id": alias}, {"article_id": article.id}, upsert=True)

    async def get(self, article_id: str) -> dict[str, Any] | None:
        return await self._articles.find_one({"_id": article_id})
