"""Composition root of the relate service: settings -> store -> broker -> handlers -> app."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream
from newswire_contracts import topics
from newswire_platform import (
    consumer_parts,
    consumer_service,
    create_mongo_client,
    ping_mongo,
    run,
    wait_for_mongo,
)

from .config import RelateSettings
from .handlers import build_router
from .store import ArticleStore


def build_app(settings: RelateSettings) -> AsgiFastStream:
    """The relate service as an ASGI app; nothing connects until it starts."""
    client = create_mongo_client(settings)
    store = ArticleStore(client[settings.mongodb_database])
    parts = consumer_parts(settings, dead_letter_topic=topics.RELATE_DLQ)

    async def store_ready() -> bool:
        return await ping_mongo(client)

    return consumer_service(
        settings,
        parts,
        routers=[build_router(settings, parts.publisher, store)],
        topics=[topics.ARTICLES_ENRICHED, topics.ARTICLES_RELATED, topics.STORIES_UPDATED],
        on_startup=[lambda: wait_for_mongo(client)],
        on_shutdown=[client.close],
        checks={"store": store_ready},
        title="Newswire relate",
        description="Stores the article read model, relates articles and groups them into stories.",
    )


def main() -> None:
    settings = RelateSettings()
    run(settings, lambda: build_app(settings))


if __name__ == "__main__":
    main()
