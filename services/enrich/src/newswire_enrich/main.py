"""Composition root of the enrich service: settings -> models -> broker -> handlers -> app."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaMessage
from newswire_contracts import ArticleEnriched, ArticleIngested, topics
from newswire_platform import (
    BatchFill,
    batch_event_subscriber,
    consumer_parts,
    consumer_service,
    run,
)

from . import handlers
from .adapters.language import LanguageIdentifier
from .adapters.nlp import Pipelines
from .config import EnrichSettings
from .domain.enrichment import Enricher

EVENT_BYTES = 4 * 1024
"""A typical ingested article's event: a batch of them ends a batch wait early."""


def build_app(settings: EnrichSettings) -> AsgiFastStream:
    """The enrich service as an ASGI app; models load here, nothing connects until start."""
    enricher = Enricher(
        Pipelines(settings.enrich_spacy_model, blas_threads=settings.enrich_blas_threads),
        LanguageIdentifier(),
        words_per_minute=settings.reading_words_per_minute,
        max_chars=settings.enrich_max_chars,
        min_words=settings.enrich_min_words,
    )
    parts = consumer_parts(
        settings,
        dead_letter_topic=topics.ENRICH_DLQ,
        publishes={
            ArticleEnriched: "Ingested articles with their language, counts, entities, keywords, "
            "summary and key points: one event per ingested version. Keyed by article id.",
        },
    )
    deps = handlers.EnrichDependencies(enricher, parts.publisher, parts.policy)

    @batch_event_subscriber(
        parts.broker,
        settings,
        ArticleIngested,
        description="Enriches articles (language, entities, keywords, summary) in batches.",
        max_records=settings.enrich_batch_size,
        fill=BatchFill(settings.enrich_batch_wait_ms, settings.enrich_batch_size * EVENT_BYTES),
    )
    async def on_articles_ingested(message: KafkaMessage) -> None:
        await handlers.on_articles_ingested(message.raw_message, deps)

    return consumer_service(
        settings,
        parts,
        topics=[topics.ARTICLES_INGESTED],
        title="Newswire enrich",
        description="Adds language, counts, entities, keywords and summary; publishes articles.enriched.",
    )


def main() -> None:
    settings = EnrichSettings()
    run(settings, lambda: build_app(settings))
