"""Composition root of the relate service: settings -> store -> index -> broker -> app."""

from __future__ import annotations

from datetime import UTC, datetime

from faststream.asgi import AsgiFastStream
from newswire_contracts import ArticleEnriched, ArticleRelated, StoryUpdated, topics
from newswire_platform import (
    consumer_parts,
    consumer_service,
    create_mongo_client,
    ping_mongo,
    run,
    wait_for_mongo,
)
from newswire_platform.kafka import declare_dead_letters, declare_published

from .config import RelateSettings
from .handlers import RelateDependencies, build_router
from .index_reader import IndexReader
from .refresh import REFRESH_TOPIC, RelateRefresh
from .relator import Relator
from .store import ArticleStore, StoryStore


def build_app(settings: RelateSettings) -> AsgiFastStream:
    """The relate service as an ASGI app; nothing connects until it starts."""
    client = create_mongo_client(settings)
    database = client[settings.mongodb_database]
    relator = Relator()
    reader = IndexReader(settings, settings.topic(ArticleEnriched.topic), relator)
    parts = consumer_parts(settings, dead_letter_topic=topics.RELATE_DLQ)
    declare_published(
        parts.broker,
        settings,
        ArticleRelated,
        description="An article's related articles, story and near-duplicate status, when it is "
        "first stored and whenever they change. Keyed by article id.",
    )
    declare_published(
        parts.broker,
        settings,
        StoryUpdated,
        description="A story (the articles of every outlet about one event) was created, grew, "
        "changed or was merged into another. Keyed by story id.",
    )
    declare_published(
        parts.broker,
        settings,
        RelateRefresh,
        description="Internal to relate, not a contract: asks the instance that owns an article "
        "or a story (by partition) to write it again. Keyed like the article; a story's id is "
        "its earliest article's id.",
    )
    declare_dead_letters(parts.broker, settings, topics.RELATE_DLQ)
    deps = RelateDependencies(
        relator=relator,
        reader=reader,
        articles=ArticleStore(database),
        stories=StoryStore(database),
        publisher=parts.publisher,
        clock=lambda: datetime.now(UTC),
    )

    async def store_ready() -> bool:
        return await ping_mongo(client)

    async def index_ready() -> bool:
        return reader.ready.is_set()

    return consumer_service(
        settings,
        parts,
        routers=[build_router(settings, deps, parts.policy)],
        topics=[
            topics.ARTICLES_ENRICHED,
            REFRESH_TOPIC,
            topics.ARTICLES_RELATED,
            topics.STORIES_UPDATED,
        ],
        on_startup=[lambda: wait_for_mongo(client), reader.start],
        on_shutdown=[reader.stop, client.close],
        checks={"store": store_ready, "index": index_ready},
        title="Newswire relate",
        description="Relates articles, finds near-duplicates and stories; writes the read model.",
    )


def main() -> None:
    settings = RelateSettings()
    run(settings, lambda: build_app(settings))


if __name__ == "__main__":
    main()
