"""Enrich's subscribers: ingested articles in, enriched articles out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from faststream.kafka import KafkaRouter
from newswire_contracts import ArticleEnriched, ArticleIngested, derive_event_id
from newswire_platform import CurrentEvent, EventPublisher, bind, event_subscriber

from .config import EnrichSettings
from .enrichment import enrich_article
from .language import LanguageIdentifier

log = logging.getLogger(__name__)


def build_router(
    settings: EnrichSettings,
    publisher: EventPublisher,
    languages: LanguageIdentifier,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> KafkaRouter:
    """The enrich subscribers, wired to a publisher and the language identifier."""
    router = KafkaRouter()

    @event_subscriber(
        router, settings, ArticleIngested, description="Enriches the article and publishes it."
    )
    async def on_article_ingested(article: ArticleIngested, meta: CurrentEvent) -> None:
        bind(article_id=article.id)
        enriched = await asyncio.to_thread(
            enrich_article,
            article,
            languages=languages,
            now=clock(),
            words_per_minute=settings.reading_words_per_minute,
        )
        await publisher.publish(
            enriched, event_id=derive_event_id(meta.id, ArticleEnriched.event_type)
        )
        log.info(
            "article enriched",
            extra={"language": enriched.language, "word_count": enriched.word_count},
        )

    return router
