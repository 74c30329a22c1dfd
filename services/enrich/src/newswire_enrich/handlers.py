"""Enrich's subscribers: batches of ingested articles in, enriched articles out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from faststream.kafka import KafkaMessage, KafkaRouter
from newswire_contracts import ArticleEnriched, ArticleIngested, derive_event_id
from newswire_platform import (
    DeadLetterPolicy,
    Decoded,
    EventPublisher,
    PermanentError,
    batch_event_subscriber,
    decode_batch,
)

from .config import EnrichSettings
from .enrichment import Enricher

log = logging.getLogger(__name__)


def build_router(
    settings: EnrichSettings,
    publisher: EventPublisher,
    enricher: Enricher,
    dead_letters: DeadLetterPolicy,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> KafkaRouter:
    """The enrich subscriber: batches of articles through spaCy together."""
    router = KafkaRouter()

    @batch_event_subscriber(
        router,
        settings,
        ArticleIngested,
        description="Enriches articles (language, entities, keywords, summary) in batches.",
        max_records=settings.enrich_batch_size,
    )
    async def on_articles_ingested(message: KafkaMessage) -> None:
        batch = decode_batch(message.raw_message, ArticleIngested)
        failed = [(record, error) for record, error in batch.invalid]
        done: list[tuple[Decoded[ArticleIngested], ArticleEnriched]] = []
        if batch.events:
            done, broken = await _enrich(enricher, batch.events, clock())
            failed.extend(broken)
        # CPU-heavy work is done; publishing the batch at once lets the producer pipeline it.
        await asyncio.gather(
            *(
                publisher.publish(
                    enriched,
                    event_id=derive_event_id(item.meta.id, ArticleEnriched.event_type),
                    traceparent=item.meta.traceparent,  # each article keeps its own trace in a batch
                )
                for item, enriched in done
            )
        )
        for item, enriched in done:
            log.info(
                "article enriched",
                extra={
                    "article_id": enriched.id,
                    "event_id": item.meta.id,
                    "language": enriched.language,
                    "entities": len(enriched.entities),
                    "flags": list(enriched.flags),
                },
            )
        # Dead letters last: a retry of the batch after a failed publish must not send them twice.
        for record, error in failed:
            await dead_letters.dead_letter(record, error, attempts=1)

    return router


async def _enrich(
    enricher: Enricher, items: list[Decoded[ArticleIngested]], now: datetime
) -> tuple[list[tuple[Decoded[ArticleIngested], ArticleEnriched]], list[tuple[object, Exception]]]:
    """Enrich a batch in a worker thread (heartbeats keep flowing); if one article breaks the
    batch, enrich them one by one so that only that one is dead-lettered."""
    try:
        enriched = await asyncio.to_thread(enricher.enrich, [item.event for item in items], now=now)
        return list(zip(items, enriched, strict=True)), []
    except Exception:
        log.exception("batch enrichment failed; enriching one by one", extra={"batch": len(items)})
    done, broken = [], []
    for item in items:
        try:
            [one] = await asyncio.to_thread(enricher.enrich, [item.event], now=now)
            done.append((item, one))
        except Exception as exc:
            log.exception("article not enriched", extra={"article_id": item.event.id})
            broken.append(
                (item.record, PermanentError(f"enrichment failed: {type(exc).__name__}: {exc}"))
            )
    return done, broken
