"""Relate's subscribers: enriched articles in, stored articles and relations out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from faststream.kafka import KafkaRouter
from newswire_contracts import ArticleEnriched, ArticleRelated, derive_event_id
from newswire_platform import CurrentEvent, EventPublisher, bind, event_subscriber

from .config import RelateSettings
from .store import ArticleStore

log = logging.getLogger(__name__)


def build_router(
    settings: RelateSettings,
    publisher: EventPublisher,
    store: ArticleStore,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> KafkaRouter:
    """The relate subscribers, wired to a publisher and the article store."""
    router = KafkaRouter()

    @event_subscriber(
        router,
        settings,
        ArticleEnriched,
        description="Stores the article in the read model and publishes its relations.",
    )
    async def on_article_enriched(article: ArticleEnriched, meta: CurrentEvent) -> None:
        bind(article_id=article.id)
        now = clock()
        result = await store.save(article, now=now)
        if result.outcome == "stale":
            log.info(
                "older version ignored",
                extra={"version": article.version, "stored": result.stored_version},
            )
            return
        related = ArticleRelated(id=article.id, version=article.version, updated_at=now)
        await publisher.publish(
            related, event_id=derive_event_id(meta.id, ArticleRelated.event_type)
        )
        log.info("article stored", extra={"outcome": result.outcome, "version": article.version})

    return router
