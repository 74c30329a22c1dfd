"""Publishing ingested articles: one event per version, whoever else offers the same article.

claim -> publish -> mark published. The claim (see article_store) makes one writer the
publisher of a version; a writer that finds a claim under way waits for it, and one that
finds a claim whose writer is gone (older than the lease) publishes the event that claim
holds, under the same event id, then decides again. The event id is derived from (article,
version, content), so a republished event repeats its id and consumers recognise it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from newswire_contracts import ArticleIngested, derive_event_id
from newswire_platform import EventPublisher

from newswire_ingest.domain.versions import Basis, Candidate, VersionRecord, decide

from .article_store import ArticleVersions

__all__ = ["ArticleSink", "Offered"]

log = logging.getLogger(__name__)

MAX_ROUNDS = 1_000
"""Decisions per offer, at most: each round follows another writer's progress."""

Outcome = Literal["new", "changed", "unchanged", "superseded", "kept", "pending"]


@dataclass(frozen=True)
class Offered:
    """What became of an offer: ``new`` or ``changed`` (published by this writer),
    ``unchanged``, ``superseded`` or ``kept`` (see versions.decide), or ``pending`` (another
    writer's claim did not resolve in time: offer it again later). ``latest`` is the
    article's latest version afterwards."""

    outcome: Outcome
    latest: VersionRecord

    @property
    def published(self) -> bool:
        return self.outcome in ("new", "changed")

    @property
    def version(self) -> int:
        return self.latest.version


class ArticleSink:
    def __init__(
        self,
        publisher: EventPublisher,
        versions: ArticleVersions,
        clock: Callable[[], datetime],
        *,
        lease_seconds: float = 120.0,
        wait_seconds: float = 10.0,
        poll_seconds: float = 0.1,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._publisher = publisher
        self._versions = versions
        self._clock = clock
        self._lease = timedelta(seconds=lease_seconds)
        self._wait = wait_seconds
        self._poll = poll_seconds
        self._sleep = sleep

    async def latest(self, article_id: str) -> VersionRecord | None:
        return await self._versions.latest(article_id)

    async def offer(
        self, article: ArticleIngested, basis: Basis, *, known_version: int | None = None
    ) -> Offered:
        """Publish ``article`` as its next version if ``basis`` makes it one (see
        versions.decide). ``known_version``: a version of it known to exist (fewer reads)."""
        candidate = Candidate(article.content_hash, article.summary_only)
        waited = 0.0
        hint = known_version
        for _ in range(MAX_ROUNDS):
            # Optimistic until a claim fails: then ``hint`` is set and the look is thorough.
            latest = await self._versions.latest(article.id, from_version=hint, optimistic=True)
            now = self._clock()
            decision = decide(latest, candidate, basis, now=now, lease=self._lease)
            if decision.action == "publish":
                first = first_ingested(latest, article.taken_in)
                record = VersionRecord(
                    article_id=article.id,
                    url=article.url,
                    version=decision.version,
                    content_hash=article.content_hash,
                    summary_only=article.summary_only,
                    edit_version=decision.edit_version,
                    feed_id=article.feed_id,
                    published=False,
                    claimed_at=now,
                    event_id=derive_event_id(
                        article.id, str(decision.version), article.content_hash
                    ),
                    first_ingested_at=first,
                )
                versioned = article.model_copy(
                    update={"version": decision.version, "first_ingested_at": first}
                )
                if not await self._versions.claim(record, versioned):
                    hint = decision.version  # someone else wrote it first: decide again
                    continue
                await self._publish(record, versioned)
                published: Outcome = "new" if record.version == 1 else "changed"
                self._log(article, published, record.version)
                return Offered(published, replace(record, published=True))
            assert latest is not None
            hint = latest.version
            if decision.action == "take_over":
                await self._take_over(latest)
                continue
            if decision.action == "wait":
                if waited >= self._wait:
                    self._log(article, "pending", latest.version)
                    return Offered("pending", latest)
                await self._sleep(self._poll)
                waited += self._poll
                continue
            self._log(article, decision.action, latest.version)
            assert decision.action in ("unchanged", "superseded", "kept")
            return Offered(decision.action, latest)
        raise RuntimeError(f"article {article.id}: no decision after {MAX_ROUNDS} rounds")

    async def _publish(self, record: VersionRecord, article: ArticleIngested) -> None:
        try:
            await self._publisher.publish(article, event_id=record.event_id)
        except Exception:
            # The next writer may claim the version at once; if the event did reach Kafka, it
            # is published again under the same id.
            with contextlib.suppress(Exception):
                await self._versions.release(record)
            raise
        await self._versions.mark_published(record, url=article.url, now=self._clock())

    async def _take_over(self, claim: VersionRecord) -> None:
        """Publish the event of a claim whose writer is gone (it may have published it: the
        same event id then marks the repeat)."""
        event = await self._versions.claimed_event(claim)
        if event is not None:
            log.warning(
                "taking over a stale claim",
                extra={"article_id": claim.article_id, "version": claim.version},
            )
            await self._publisher.publish(event, event_id=claim.event_id)
        await self._versions.mark_published(claim, url=claim.url, now=self._clock())

    @staticmethod
    def _log(article: ArticleIngested, outcome: str, version: int) -> None:
        log.info(
            "article %s",
            "published" if outcome in ("new", "changed") else outcome,
            extra={"article_id": article.id, "version": version, "outcome": outcome},
        )


def first_ingested(latest: VersionRecord | None, taken_in: datetime) -> datetime | None:
    """When the article was first ingested: ``taken_in`` for its first version, else as the
    latest claim says. Consumers order by it (relate's stories), so an edit keeps its place.
    A claim from before it was kept gives its own time; a legacy head (no claim), none."""
    if latest is None:  # to the millisecond, as the store keeps it for the next versions
        return taken_in.replace(microsecond=taken_in.microsecond // 1000 * 1000)
    if latest.first_ingested_at is not None:
        return latest.first_ingested_at
    return latest.claimed_at if latest.event_id else None
