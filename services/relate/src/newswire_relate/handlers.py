"""Relate's subscriber: enriched articles and refresh requests in; the read model,
``articles.related`` and ``stories.updated`` out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter
from newswire_contracts import ArticleEnriched, cloudevents, derive_event_id
from newswire_contracts.readmodel import StoredStory
from newswire_platform import EventPublisher, TransientError, bind

from .config import RelateSettings
from .documents import related_event, relations_of, story_document, story_event
from .index_reader import IndexReader
from .refresh import RelateRefresh
from .relator import Relator
from .store import ArticleStore, StoryStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelateDependencies:
    relator: Relator
    reader: IndexReader
    articles: ArticleStore
    stories: StoryStore
    publisher: EventPublisher
    clock: Callable[[], datetime]


def build_router(settings: RelateSettings, deps: RelateDependencies) -> KafkaRouter:
    """One subscriber for both topics: with the same partition count, Kafka's range
    assignment gives an instance the same partitions of each, so the writer of an article
    also receives the refresh requests for it."""
    router = KafkaRouter()
    enriched_topic = settings.topic(ArticleEnriched.topic)

    @router.subscriber(
        enriched_topic,
        settings.topic(RelateRefresh.topic),
        group_id=settings.consumer_group,
        ack_policy=AckPolicy.ACK,
        auto_offset_reset="earliest",
        max_poll_interval_ms=15 * 60 * 1000,
        title=f"{enriched_topic}:{settings.service_name}",
        description="Stores each article with its related articles and story; keeps older ones up to date.",
    )
    async def on_message(message: KafkaMessage) -> None:
        record = message.raw_message
        if record.topic == enriched_topic:
            article, meta = cloudevents.decode(ArticleEnriched, record.headers or (), record.value)
            bind(article_id=article.id)
            # Everything in the topic now, not just this article: a refresh request for it
            # that came before it was stored was skipped, so its relations must be complete.
            await _wait(deps.reader.catch_up())
            await on_article_enriched(article, meta.id, deps)
        else:
            refresh, meta = cloudevents.decode(RelateRefresh, record.headers or (), record.value)
            await _wait(deps.reader.catch_up())
            if refresh.kind == "article":
                bind(article_id=refresh.id)
                await refresh_article(refresh.id, meta.id, deps)
            else:
                bind(story_id=refresh.id)
                await refresh_story(refresh.id, meta.id, deps)

    return router


async def on_article_enriched(
    article: ArticleEnriched, event_id: str, deps: RelateDependencies
) -> None:
    now = deps.clock()
    relations = relations_of(deps.relator, article.id)
    result = await deps.articles.save(article, relations, now=now)
    if result.outcome == "stale":
        log.info(
            "older version ignored",
            extra={"version": article.version, "stored": result.stored_version},
        )
        return
    event = related_event(article.id, article.version, relations, now)
    await deps.publisher.publish(event, event_id=derive_event_id(event_id, event.event_type))
    changes = deps.relator.changes_caused_by(article.id)
    requests: list[RelateRefresh] = []
    if changes is not None:
        slot = deps.relator.index.slot_of[article.id]
        for other in sorted((changes.related | changes.moved) - {slot}):
            requests.append(
                RelateRefresh(kind="article", id=deps.relator.id_of(other), requested_at=now)
            )
        for story in sorted(changes.stories | set(changes.absorbed)):
            requests.append(
                RelateRefresh(kind="story", id=deps.relator.id_of(story), requested_at=now)
            )
    await asyncio.gather(
        *(
            deps.publisher.publish(
                request, event_id=derive_event_id(event_id, request.kind, request.id)
            )
            for request in requests
        )
    )
    log.info(
        "article related",
        extra={
            "outcome": result.outcome,
            "related": len(relations.related),
            "story_id": relations.story_id,
            "refreshes": len(requests),
        },
    )


async def refresh_article(article_id: str, event_id: str, deps: RelateDependencies) -> None:
    if not deps.relator.knows(article_id):
        return
    now = deps.clock()
    relations = relations_of(deps.relator, article_id)
    version = await deps.articles.update_relations(article_id, relations, now=now)
    if version is not None:
        event = related_event(article_id, version, relations, now)
        await deps.publisher.publish(event, event_id=derive_event_id(event_id, event.event_type))
        log.info(
            "relations refreshed",
            extra={"related": len(relations.related), "story_id": relations.story_id},
        )


async def refresh_story(story_id: str, event_id: str, deps: RelateDependencies) -> None:
    if not deps.relator.knows(story_id):
        return
    now = deps.clock()
    story = story_document(deps.relator, story_id, now)
    if story is None:  # merged into another: say so, so readers of this id find the other
        survivor = story_document(deps.relator, deps.relator.story_id(story_id), now)
        previous = await deps.stories.get(story_id)
        if survivor is None or previous is None:
            return
        story = StoredStory(
            **{**previous.model_dump(), "merged_into": survivor.id, "updated_at": now}
        )
        article_ids: tuple[str, ...] = ()
    else:
        summary = deps.relator.story(story_id)
        article_ids = summary.article_ids if summary else ()
    if await deps.stories.save(story):
        event = story_event(story, article_ids)
        await deps.publisher.publish(event, event_id=derive_event_id(event_id, event.event_type))
        log.info(
            "story updated",
            extra={"articles": story.article_count, "merged_into": story.merged_into},
        )


async def _wait(waiting: object) -> None:
    try:
        await waiting  # type: ignore[misc]
    except (TimeoutError, KafkaError) as exc:
        raise TransientError(f"relation index not caught up: {exc!r}") from exc
