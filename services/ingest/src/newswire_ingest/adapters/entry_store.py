"""What each feed remembers of its entries (``ingest_entries``): the entry's hash, so an
entry seen again unchanged is skipped without fetching its page, and the article version the
feed last knew, so that a change it sees later is recognised as an edit.

Keyed by feed and entry, so that each document has one writer (the feed's owner): two feeds
that share an entry never write one document at once (which FerretDB 1.24 could resolve by
losing one of the writes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from newswire_platform import store_errors
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["EntryMemory", "EntryStore"]

ENTRIES_COLLECTION = "ingest_entries"


@dataclass(frozen=True)
class EntryMemory:
    entry_hash: str
    article_id: str
    article_url: str
    version: int


def _key(feed_id: str, entry_id: str) -> str:
    return f"{feed_id}:{entry_id}"


class EntryStore:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._entries = database[ENTRIES_COLLECTION]

    async def get(self, feed_id: str, entry_id: str) -> EntryMemory | None:
        with store_errors():
            document = await self._entries.find_one({"_id": _key(feed_id, entry_id)})
        if document is None or "version" not in document:
            return None
        return EntryMemory(**{name: document[name] for name in EntryMemory.__dataclass_fields__})

    async def remember(
        self, feed_id: str, entry_id: str, memory: EntryMemory, *, now: datetime
    ) -> None:
        with store_errors():
            await self._entries.replace_one(
                {"_id": _key(feed_id, entry_id)},
                {**asdict(memory), "seen_at": now},
                upsert=True,
            )

    async def known_version(self, feed_id: str, entry_id: str, version: int) -> None:
        """The feed now knows ``version`` of the entry's article (its page came)."""
        with store_errors():
            await self._entries.update_one(
                {"_id": _key(feed_id, entry_id)}, {"$max": {"version": version}}
            )
