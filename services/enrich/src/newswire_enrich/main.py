"""Composition root of the enrich service: settings -> models -> broker -> handlers -> app."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream
from newswire_contracts import topics
from newswire_platform import consumer_service, run

from .config import EnrichSettings
from .handlers import build_router
from .language import LanguageIdentifier


def build_app(settings: EnrichSettings) -> AsgiFastStream:
    """The enrich service as an ASGI app; models load here, nothing connects until start."""
    languages = LanguageIdentifier()
    return consumer_service(
        settings,
        dead_letter_topic=topics.ENRICH_DLQ,
        topics=[topics.ARTICLES_INGESTED, topics.ARTICLES_ENRICHED],
        routers=lambda publisher: [build_router(settings, publisher, languages)],
        title="Newswire enrich",
        description="Adds language, counts, entities, keywords and summary; publishes articles.enriched.",
    )


def main() -> None:
    settings = EnrichSettings()
    run(settings, lambda: build_app(settings))


if __name__ == "__main__":
    main()
