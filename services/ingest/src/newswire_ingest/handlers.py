"""Ingest's subscribers: ingest commands in, ingested articles out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from faststream.kafka import KafkaRouter
from newswire_contracts import ArticleIngested, IngestArticle, derive_event_id
from newswire_platform import CurrentEvent, EventPublisher, bind, event_subscriber

from .articles import article_from_submission
from .config import IngestSettings

log = logging.getLogger(__name__)


def build_router(
    settings: IngestSettings,
    publisher: EventPublisher,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> KafkaRouter:
    """The ingest subscribers, wired to a publisher."""
    router = KafkaRouter()

    @event_subscriber(
        router, settings, IngestArticle, description="Extracts the article and publishes it."
    )
    async def on_ingest_requested(command: IngestArticle, meta: CurrentEvent) -> None:
        # Extraction parses HTML: keep it off the event loop so heartbeats keep flowing.
        article = await asyncio.to_thread(article_from_submission, command, now=clock())
        bind(article_id=article.id)
        await publisher.publish(
            article, event_id=derive_event_id(meta.id, ArticleIngested.event_type)
        )
        log.info("article ingested", extra={"url": article.url, "version": article.version})

    return router
