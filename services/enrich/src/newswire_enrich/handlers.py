"""Enrich's handler: batches of ingested articles in, enriched articles out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from newswire_contracts import ArticleEnriched, ArticleIngested, derive_event_id
from newswire_platform import (
    DeadLetterPolicy,
    Decoded,
    EventPublisher,
    PermanentError,
    decode_batch,
)

from .domain.enrichment import Enricher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnrichDependencies:
    enricher: Enricher
    publisher: EventPublisher
    dead_letters: DeadLetterPolicy
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


async def on_articles_ingested(
    records: Sequence[ConsumerRecord[Any, Any]], deps: EnrichDependencies
) -> None:
    """Enrich a batch of articles (through spaCy together) and publish them; invalid or
    unenrichable ones go to the dead-letter topic."""
    batch = decode_batch(records, ArticleIngested)
    failed: list[tuple[ConsumerRecord[Any, Any], Exception]] = [*batch.invalid]
    done: list[tuple[Decoded[ArticleIngested], ArticleEnriched]] = []
    if batch.events:
        done, broken = await _enrich(deps.enricher, batch.events, deps.clock())
        failed.extend(broken)
    # CPU-heavy work is done; publishing the batch at once lets the producer pipeline it.
    await asyncio.gather(
        *(
            deps.publisher.publish(
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
        await deps.dead_letters.dead_letter(record, error, attempts=1)


async def _enrich(
    enricher: Enricher, items: list[Decoded[ArticleIngested]], now: datetime
) -> tuple[
    list[tuple[Decoded[ArticleIngested], ArticleEnriched]],
    list[tuple[ConsumerRecord[Any, Any], Exception]],
]:
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
