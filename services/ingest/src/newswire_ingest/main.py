"""Composition root of the ingest service: settings -> broker -> handlers -> app."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream
from newswire_contracts import topics
from newswire_platform import consumer_service, run

from .config import IngestSettings
from .handlers import build_router


def build_app(settings: IngestSettings) -> AsgiFastStream:
    """The ingest service as an ASGI app; nothing connects until it starts."""
    return consumer_service(
        settings,
        dead_letter_topic=topics.INGEST_DLQ,
        topics=[topics.INGEST_REQUESTS, topics.ARTICLES_INGESTED],
        routers=lambda publisher: [build_router(settings, publisher)],
        title="Newswire ingest",
        description="Accepts ingest commands, extracts article text, publishes articles.ingested.",
    )


def main() -> None:
    settings = IngestSettings()
    run(settings, lambda: build_app(settings))


if __name__ == "__main__":
    main()
