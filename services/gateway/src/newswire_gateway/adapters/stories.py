"""The stories relate stores: one by id (following merges), or the latest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from newswire_contracts.readmodel import STORIES_COLLECTION, StoredStory
from newswire_platform import store_errors
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["StoryReader"]


class StoryReader:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._stories = database[STORIES_COLLECTION]

    async def get(self, story_id: str) -> StoredStory | None:
        """The story, or the one it merged into."""
        for _ in range(5):  # merges chain rarely; never loop forever on bad data
            with store_errors():
                document = await self._stories.find_one({"_id": story_id})
            if document is None:
                return None
            story = StoredStory.from_document(document)
            if story.merged_into is None:
                return story
            story_id = story.merged_into
        return None

    async def create_indexes(self) -> None:
        with store_errors():
            await self._stories.create_index([("last_seen", -1), ("_id", -1)], name="latest")

    async def latest(self, limit: int, before: tuple[datetime, str] | None) -> list[StoredStory]:
        """Stories by last article, newest first, after the cursor position ``before``, each
        with its first five articles.

        MongoDB serves this from the index on (last_seen, _id) created at start-up;
        FerretDB 1.24 scans.
        """
        query: dict[str, Any] = {"merged_into": None}
        if before is not None:
            last_seen, story_id = before
            query["$or"] = [
                {"last_seen": {"$lt": last_seen}},
                {"last_seen": last_seen, "_id": {"$lt": story_id}},
            ]
        with store_errors():
            cursor = self._stories.find(query).sort([("last_seen", -1), ("_id", -1)]).limit(limit)
            documents = [d async for d in cursor]
        stories = [StoredStory.from_document(d) for d in documents]
        return [s.model_copy(update={"articles": s.articles[:5]}) for s in stories]
