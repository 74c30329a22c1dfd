"""Publishing ingested articles once per version."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from newswire_contracts import ArticleIngested, derive_event_id
from newswire_platform import EventPublisher

from newswire_ingest.domain.articles import sighting

from .store import ArticleVersions

__all__ = ["ArticleSink"]

log = logging.getLogger(__name__)


class ArticleSink:
    """Publishes an article unless the same content was already published for its URL.

    Changed content becomes the next version. The version is recorded only after Kafka
    acknowledged the event, so a crash in between republishes rather than loses it; the
    event id is derived from (article, version, content), so a republished event repeats
    its id and downstream consumers can recognise it.
    """

    def __init__(
        self, publisher: EventPublisher, versions: ArticleVersions, clock: Callable[[], datetime]
    ) -> None:
        self._publisher = publisher
        self._versions = versions
        self._clock = clock

    async def offer(self, article: ArticleIngested) -> Literal["new", "changed", "unchanged"]:
        seen = sighting(article, await self._versions.last_published(article.id))
        if seen.outcome != "unchanged":
            article = article.model_copy(update={"version": seen.version})
            await self._publisher.publish(
                article,
                event_id=derive_event_id(article.id, str(article.version), article.content_hash),
            )
        await self._versions.remember(
            article.id,
            url=article.url,
            content_hash=article.content_hash,
            version=seen.version,
            now=self._clock(),
        )
        log.info(
            "article %s",
            "unchanged" if seen.outcome == "unchanged" else "published",
            extra={"article_id": article.id, "version": seen.version, "outcome": seen.outcome},
        )
        return seen.outcome
