"""Read access to the article read model (written by relate)."""

from __future__ import annotations

from typing import Any

from newswire_contracts.readmodel import ARTICLES_COLLECTION, StoredArticle
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["ArticleReader"]


class ArticleReader:
    """Looks articles up by id, the one query every MongoDB-wire store serves from an index."""

    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._articles = database[ARTICLES_COLLECTION]

    async def get(self, article_id: str) -> StoredArticle | None:
        document = await self._articles.find_one({"_id": article_id})
        return StoredArticle.from_document(document) if document else None
