"""The versions of articles ingest has claimed and published (``ingest_article_versions``),
and each article's latest published version (``ingest_articles``).

A version is claimed by inserting ``{_id: "<article id>:<version>"}``: the store lets
exactly one writer insert a given ``_id`` (a duplicate-key answer means someone else wrote
it first), which is the only atomic step FerretDB 1.24 offers (its updates read and write
the document back, so concurrent ones can lose each other). The claim holds the event to
publish until it is marked published, so that if its writer dies in between, the next
writer of the article publishes that same event (same id) instead of losing it.

The head document of an article records the latest version marked published once there is
more than one; it is a hint that may lag behind (a writer that died before writing it, or two
marks at once), so readers probe the versions after it. Without a head they probe from
version 1, which is where a new article's only version is: most articles never get a head,
and their publication costs one store write fewer. Articles ingested before claims existed
have only a head (a legacy head, with the content hash), read as their published latest
version.

A writer about to claim needs no head at all: its insert of version 1 fails when the article
has one, and it then probes upwards from there. Only a legacy head must be read first, since
such an article has no version 1 to collide with. So each process asks once whether the store
holds any legacy head, and if not, a new article costs two store commands instead of three.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from newswire_contracts import ArticleIngested
from newswire_platform import store_errors
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from newswire_ingest.domain.versions import VersionRecord, claim_id

__all__ = ["ArticleVersions"]

HEADS_COLLECTION = "ingest_articles"
VERSIONS_COLLECTION = "ingest_article_versions"


def _record(document: dict[str, Any]) -> VersionRecord:
    return VersionRecord(
        article_id=document["article_id"],
        url=document["url"],
        version=document["version"],
        content_hash=document["content_hash"],
        summary_only=document.get("summary_only", False),
        edit_version=document.get("edit_version", document["version"]),
        feed_id=document.get("feed_id"),
        published=document.get("published", False),
        claimed_at=document["claimed_at"],
        event_id=document["event_id"],
        first_ingested_at=document.get("first_ingested_at"),
    )


class ArticleVersions:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._heads = database[HEADS_COLLECTION]
        self._versions = database[VERSIONS_COLLECTION]
        self._legacy_heads: bool | None = None
        """Whether the store holds a legacy head; None until asked. Nothing writes new ones."""

    async def _any_legacy_head(self) -> bool:
        if self._legacy_heads is None:
            # Once a process (heads are written only from an article's second version: few).
            with store_errors():
                found = await self._heads.find_one(
                    {"content_hash": {"$exists": True}}, projection={"_id": 1}
                )
            self._legacy_heads = found is not None
        return self._legacy_heads

    async def latest(
        self, article_id: str, *, from_version: int | None = None, optimistic: bool = False
    ) -> VersionRecord | None:
        """The latest version claimed (published or not), probing upwards from
        ``from_version`` (a version known to exist, or 0 when none was a moment ago), else
        from the head.

        ``optimistic``: answer None at once, without reading the head, unless the store holds
        legacy heads (then: without a head, None). This is for a writer that is about to
        claim: its insert of version 1 fails if there is one, and it then looks again from
        there. A new article (the common case) costs one read fewer.
        """
        start = from_version
        legacy: VersionRecord | None = None
        if start is None:
            if optimistic and not await self._any_legacy_head():
                return None
            with store_errors():
                head = await self._heads.find_one({"_id": article_id})
            if head is None and optimistic:
                return None
            start = head.get("version", 0) if head else 0
            if head and "content_hash" in head and "claimed_at" not in head:
                legacy = VersionRecord(
                    article_id=article_id,
                    url=head.get("url", ""),
                    version=head["version"],
                    content_hash=head["content_hash"],
                    summary_only=False,
                    edit_version=head["version"],
                    feed_id=None,
                    published=True,
                    claimed_at=head.get("last_seen") or datetime.min,
                    event_id="",
                )
        found: VersionRecord | None = None
        version = max(1, start)
        while True:
            record = await self.get(article_id, version)
            if record is None:
                break
            found, version = record, version + 1
        if found is None and legacy is not None and legacy.version >= start:
            return legacy
        if found is None and start > 1:
            # The hint was ahead of what exists (a claim given up): walk down to the latest.
            for version in range(start - 1, 0, -1):
                found = await self.get(article_id, version)
                if found is not None:
                    break
        return found

    async def get(self, article_id: str, version: int) -> VersionRecord | None:
        with store_errors():
            document = await self._versions.find_one(
                {"_id": claim_id(article_id, version)}, projection={"event": 0}
            )
        return _record(document) if document else None

    async def claim(self, record: VersionRecord, article: ArticleIngested) -> bool:
        """Claim ``record``'s version for ``article``; False when another writer has it."""
        document = {
            "_id": record.claim_id,
            **asdict(record),
            "published": False,
            "event": article.model_dump(mode="json"),
        }
        with store_errors():
            try:
                await self._versions.insert_one(document)
            except DuplicateKeyError:
                return False
        return True

    async def claimed_event(self, record: VersionRecord) -> ArticleIngested | None:
        """The event a claim is to publish (None once it is marked published)."""
        with store_errors():
            document = await self._versions.find_one(
                {"_id": record.claim_id}, projection={"event": 1}
            )
        if not document or not document.get("event"):
            return None
        return ArticleIngested.model_validate(document["event"], strict=False)

    async def mark_published(self, record: VersionRecord, *, url: str, now: datetime) -> None:
        """The claim's event is acknowledged by Kafka: drop the event; from a second version
        on, move the head on."""
        with store_errors():
            await self._versions.update_one(
                {"_id": record.claim_id},
                {"$set": {"published": True, "published_at": now}, "$unset": {"event": ""}},
            )
            if record.version == 1:
                return  # found by probing from 1 (see the module's docstring)
            head = {"$max": {"version": record.version}, "$set": {"url": url, "updated_at": now}}
            try:
                await self._heads.update_one({"_id": record.article_id}, head, upsert=True)
            except DuplicateKeyError:  # another version's mark created the head meanwhile
                await self._heads.update_one({"_id": record.article_id}, head)

    async def release(self, record: VersionRecord) -> None:
        """Give up a claim whose event could not be published, so the next writer claims
        the version afresh rather than waiting for the claim to go stale."""
        # By _id alone (any other filter scans on FerretDB); a claim published meanwhile by a
        # writer that took it over must stay.
        with store_errors():
            document = await self._versions.find_one(
                {"_id": record.claim_id}, projection={"published": 1}
            )
            if document is not None and not document.get("published"):
                await self._versions.delete_one({"_id": record.claim_id})
