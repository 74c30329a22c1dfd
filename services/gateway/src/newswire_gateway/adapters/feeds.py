"""Feed registrations (the gateway owns them) and their polling status (ingest's)."""

from __future__ import annotations

from typing import Any

from newswire_contracts.readmodel import FEED_STATUS_COLLECTION, FeedStatus
from newswire_platform import store_errors
from pymongo.asynchronous.database import AsyncDatabase

from newswire_gateway.domain.models import FeedRegistration

__all__ = ["FeedRegistry"]

FEEDS_COLLECTION = "feeds"


class FeedRegistry:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._feeds = database[FEEDS_COLLECTION]
        self._status = database[FEED_STATUS_COLLECTION]

    async def save(self, registration: FeedRegistration) -> None:
        with store_errors():
            await self._feeds.replace_one(
                {"_id": registration.id}, registration.document(), upsert=True
            )

    async def get(self, feed_id: str) -> FeedRegistration | None:
        with store_errors():
            document = await self._feeds.find_one({"_id": feed_id})
        return FeedRegistration.from_document(document) if document else None

    async def delete(self, feed_id: str) -> bool:
        with store_errors():
            return (await self._feeds.delete_one({"_id": feed_id})).deleted_count == 1

    async def all(self) -> list[FeedRegistration]:
        """Every registration, oldest first (a scan; feed lists are short)."""
        with store_errors():
            documents = [d async for d in self._feeds.find({})]
        registrations = map(FeedRegistration.from_document, documents)
        return sorted(registrations, key=lambda r: (r.created_at, r.id))

    async def status(self, feed_id: str) -> FeedStatus | None:
        with store_errors():
            document = await self._status.find_one({"_id": feed_id})
        return FeedStatus.from_document(document) if document else None
