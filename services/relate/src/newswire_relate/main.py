"""Composition root of the relate service: settings -> store -> index -> broker -> app."""

from __future__ import annotations

from functools import partial

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaMessage
from newswire_contracts import ArticleEnriched, ArticleRelated, StoryUpdated, topics
from newswire_platform import (
    batch_event_subscriber,
    consumer_parts,
    consumer_service,
    create_mongo_client,
    run,
)

from . import handlers
from .adapters.store import ArticleStore, StoryStore
from .config import RelateSettings
from .domain.relator import Relator
from .handlers import IdleRewrites
from .index_reader import IndexReader
from .refresh import REFRESH_TOPIC, RefreshOwnership, RelateRefresh


def build_app(settings: RelateSettings) -> AsgiFastStream:
    """The relate service as an ASGI app; nothing connects until it starts."""
    client = create_mongo_client(settings)
    database = client[settings.mongodb_database]
    relator = Relator(stories=settings.story_params())
    reader = IndexReader(settings, settings.topic(ArticleEnriched.topic), relator)
    parts = consumer_parts(
        settings,
        dead_letter_topic=topics.RELATE_DLQ,
        publishes={
            ArticleRelated: "An article's related articles, story and near-duplicate status, "
            "when it is first stored and whenever they change. Keyed by article id.",
            StoryUpdated: "A story (the articles of every outlet about one event) was created, "
            "grew, changed or was merged into another. Keyed by story id.",
            RelateRefresh: "Internal to relate, not a contract: asks the instance that owns an "
            "article or a story (by partition) to write it again. Keyed like the article; a "
            "story's id is its earliest article's id.",
        },
    )
    owner = RefreshOwnership(settings.topic(REFRESH_TOPIC))
    deps = handlers.RelateDependencies(
        relator=relator,
        reader=reader,
        articles=ArticleStore(database),
        stories=StoryStore(database),
        publisher=parts.publisher,
        dead_letters=parts.policy,
        enriched_topic=settings.topic(ArticleEnriched.topic),
        owner=owner,
        defer_refreshes=settings.relate_defer_refreshes,
    )
    if settings.relate_defer_refreshes:
        parts.commits.before_commit(partial(handlers.flush_refreshes, deps))

    # One subscriber for both topics: the group gives an instance the same partitions of
    # each, so the writer of an article also receives the refresh requests for it.
    @batch_event_subscriber(
        parts.broker,
        settings,
        ArticleEnriched,
        RelateRefresh,
        description="Stores each article with its related articles and story; keeps older ones up to date.",
        max_records=settings.relate_batch_size,
        # Small fetches per partition, so that a backlog of (small) refresh requests cannot
        # fill the buffer ahead of new articles: both topics' partitions take turns.
        max_partition_fetch_bytes=64 * 1024,
        listener=owner,
    )
    async def on_batch(message: KafkaMessage) -> None:
        records = message.raw_message
        await handlers.on_batch(records if isinstance(records, tuple) else (records,), deps)

    idle = IdleRewrites(deps, settings.relate_idle_rewrite_seconds)

    async def count_refresh_partitions() -> None:
        owner.set_partition_count(await reader.partition_count(settings.topic(REFRESH_TOPIC)))

    async def index_ready() -> bool:
        return reader.ready.is_set()

    return consumer_service(
        settings,
        parts,
        topics=[topics.ARTICLES_ENRICHED, REFRESH_TOPIC],
        store=client,
        on_startup=[reader.start, count_refresh_partitions],
        after_startup=[idle.start],
        before_shutdown=[idle.stop],
        on_shutdown=[reader.stop],
        checks={"index": index_ready},
        title="Newswire relate",
        description="Relates articles, finds near-duplicates and stories; writes the read model.",
    )


def main() -> None:
    settings = RelateSettings()
    run(settings, lambda: build_app(settings))
