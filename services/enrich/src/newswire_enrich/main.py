"""Composition root of the enrich service: settings -> models -> broker -> handlers -> app."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream
from newswire_contracts import ArticleEnriched, topics
from newswire_platform import consumer_parts, consumer_service, run
from newswire_platform.kafka import declare_dead_letters, declare_published

from .config import EnrichSettings
from .enrichment import Enricher
from .handlers import build_router
from .language import LanguageIdentifier
from .nlp import Pipelines


def build_app(settings: EnrichSettings) -> AsgiFastStream:
    """The enrich service as an ASGI app; models load here, nothing connects until start."""
    enricher = Enricher(
        Pipelines(settings.enrich_spacy_model),
        LanguageIdentifier(),
        words_per_minute=settings.reading_words_per_minute,
        max_chars=settings.enrich_max_chars,
        min_words=settings.enrich_min_words,
    )
    parts = consumer_parts(settings, dead_letter_topic=topics.ENRICH_DLQ)
    declare_published(
        parts.broker,
        settings,
        ArticleEnriched,
        description="Ingested articles with their language, counts, entities, keywords, summary "
        "and key points: one event per ingested version. Keyed by article id.",
    )
    declare_dead_letters(parts.broker, settings, topics.ENRICH_DLQ)
    return consumer_service(
        settings,
        parts,
        routers=[build_router(settings, parts.publisher, enricher, parts.policy)],
        topics=[topics.ARTICLES_INGESTED, topics.ARTICLES_ENRICHED],
        title="Newswire enrich",
        description="Adds language, counts, entities, keywords and summary; publishes articles.enriched.",
    )


def main() -> None:
    settings = EnrichSettings()
    run(settings, lambda: build_app(settings))


if __name__ == "__main__":
    main()
