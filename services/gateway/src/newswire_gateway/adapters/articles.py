"""The articles relate stores: read by id (through the cache) and listed by filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from newswire_contracts.readmodel import (
    ALIASES_COLLECTION,
    ARTICLES_COLLECTION,
    LISTING_INDEXES,
    RELATIONS_COLLECTION,
    StoredArticle,
    joined_article,
)
from newswire_platform import store_errors
from pymongo.asynchronous.database import AsyncDatabase

from newswire_gateway.domain.models import ArticleQuery, ListedArticle

from .article_cache import ArticleCache

__all__ = ["ArticleQuery", "ArticleReader"]

_LISTED_FIELDS = {"text": 0, "related": 0, "search_terms": 0, "key_points": 0}


class ArticleReader:
    """Articles by id (served from the _id index everywhere) and filtered listings (served by
    LISTING_INDEXES on MongoDB; scans on FerretDB 1.24)."""

    def __init__(
        self, database: AsyncDatabase[dict[str, Any]], cache: ArticleCache | None = None
    ) -> None:
        self._articles = database[ARTICLES_COLLECTION]
        self._aliases = database[ALIASES_COLLECTION]
        self._relations = database[RELATIONS_COLLECTION]
        # A cache of size 0 keeps nothing: every read goes to the store.
        self.cache = cache if cache is not None else ArticleCache(0, 0)

    async def create_indexes(self) -> None:
        with store_errors():
            for name, keys in LISTING_INDEXES.items():
                await self._articles.create_index(keys, name=name)

    async def list(
        self, query: ArticleQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[ListedArticle]:
        """Newest first (by publication, else ingestion time), after the keyset ``after``."""
        with store_errors():
            cursor = (
                self._articles.find(_filter(query, after), projection=_LISTED_FIELDS)
                .sort([("sort_time", -1), ("_id", -1)])
                .limit(limit)
            )
            documents = [document async for document in cursor]
        return [ListedArticle.from_document(d) for d in documents]

    async def get(self, article_id: str) -> StoredArticle | None:
        """The article with this id, or the one this id is an alias of (e.g. the id of a
        submitted URL whose page named another canonical URL); from the cache if it has it."""
        found = self.cache.get(article_id)
        if found is None:
            read_at = self.cache.epoch
            found = await self._read(article_id)
            if found is not None and found.id == article_id:  # aliases are not cached
                self.cache.put(found, read_at)
        return found

    def rendered(
        self, article: StoredArticle, render: Callable[[StoredArticle], bytes], variant: str = ""
    ) -> bytes:
        """``render(article)``, computed once per cached copy of the article and ``variant``
        (one response shape)."""
        return self.cache.body(article, render, variant)

    async def _read(self, article_id: str) -> StoredArticle | None:
        with store_errors():
            document = await self._articles.find_one({"_id": article_id})
            if document is None:
                alias = await self._aliases.find_one({"_id": article_id})
                if alias is not None:
                    document = await self._articles.find_one({"_id": alias["article_id"]})
            if document is None:
                return None
            relations = await self._relations.find_one({"_id": document["_id"]})
        return StoredArticle.from_document(joined_article(document, relations))


def _filter(query: ArticleQuery, after: tuple[datetime, str] | None) -> dict[str, Any]:
    conditions: dict[str, Any] = {}
    if query.source is not None:
        conditions["source"] = query.source
    if query.language is not None:
        conditions["language"] = query.language
    if query.entity is not None:
        conditions["entity_names"] = query.entity.casefold()
    if query.terms:
        conditions["search_terms"] = {"$all": list(query.terms)}
    window: dict[str, datetime] = {}
    if query.since is not None:
        window["$gte"] = query.since
    if query.until is not None:
        window["$lt"] = query.until
    if window:
        conditions["sort_time"] = window
    if after is None:
        return conditions
    moment, article_id = after
    keyset = {
        "$or": [
            {"sort_time": {"$lt": moment}},
            {"sort_time": moment, "_id": {"$lt": article_id}},
        ]
    }
    return {"$and": [conditions, keyset]}
