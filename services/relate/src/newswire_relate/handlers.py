"""Relate's subscriber: enriched articles and refresh requests in; the read model,
``articles.related`` and ``stories.updated`` out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter
from newswire_contracts import ArticleEnriched, derive_event_id
from newswire_contracts.readmodel import StoredStory
from newswire_platform import (
    DeadLetterPolicy,
    Decoded,
    EventPublisher,
    TransientError,
    decode_batch,
    log_context,
)

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


def build_router(
    settings: RelateSettings, deps: RelateDependencies, dead_letters: DeadLetterPolicy
) -> KafkaRouter:
    """One subscriber for both topics: with the same partition count, Kafka's range
    assignment gives an instance the same partitions of each, so the writer of an article
    also receives the refresh requests for it.

    Messages come in batches: the index catches up once per batch, and the refresh requests
    of a batch are coalesced (a refresh recomputes from the index as it is now, so the
    tenth request for one article in a batch has nothing left to do after the first).
    """
    router = KafkaRouter()
    enriched_topic = settings.topic(ArticleEnriched.topic)

    @router.subscriber(
        enriched_topic,
        settings.topic(RelateRefresh.topic),
        group_id=settings.consumer_group,
        batch=True,
        max_records=settings.relate_batch_size,
        batch_timeout_ms=100,
        # Small fetches per partition, so that a backlog of (small) refresh requests cannot
        # fill the buffer ahead of new articles: both topics' partitions take turns.
        max_partition_fetch_bytes=64 * 1024,
        ack_policy=AckPolicy.ACK,
        auto_offset_reset="earliest",
        max_poll_interval_ms=15 * 60 * 1000,
        title=f"{enriched_topic}:{settings.service_name}",
        description="Stores each article with its related articles and story; keeps older ones up to date.",
    )
    async def on_batch(message: KafkaMessage) -> None:
        records = message.raw_message
        if not isinstance(records, tuple):
            records = (records,)
        articles = decode_batch((r for r in records if r.topic == enriched_topic), ArticleEnriched)
        refreshes = decode_batch((r for r in records if r.topic != enriched_topic), RelateRefresh)
        failed: list[tuple[ConsumerRecord[Any, Any], BaseException, int]] = [
            (record, error, 1) for record, error in (*articles.invalid, *refreshes.invalid)
        ]

        async def attempt(
            work: Callable[[], Awaitable[None]], record: ConsumerRecord[Any, Any]
        ) -> None:
            failure = await dead_letters.attempt(work, record)
            if failure is not None:
                failed.append((record, *failure))

        if articles.events or refreshes.events:
            # Everything in the topic now: a refresh request for an article that came before
            # the article was stored was skipped, so its relations must be complete.
            await _wait(deps.reader.catch_up())
        for item in articles.events:
            with log_context(article_id=item.event.id, event_id=item.meta.id):
                replayed = deps.reader.indexed_at_start(item.record.partition, item.record.offset)
                await attempt(
                    lambda item=item, replayed=replayed: on_article_enriched(
                        item.event, item.meta.id, deps, replayed=replayed
                    ),
                    item.record,
                )
        for item in coalesce(refreshes.events):
            refresh = item.event
            field = "article_id" if refresh.kind == "article" else "story_id"
            with log_context(event_id=item.meta.id, **{field: refresh.id}):
                handle = refresh_article if refresh.kind == "article" else refresh_story
                await attempt(
                    lambda item=item, handle=handle: handle(item.event.id, item.meta.id, deps),
                    item.record,
                )
        # Dead letters last: a retry of the batch after a failed write must not send them twice.
        for record, error, attempts in failed:
            await dead_letters.dead_letter(record, error, attempts=attempts)

    return router


def coalesce(requests: list[Decoded[RelateRefresh]]) -> list[Decoded[RelateRefresh]]:
    """The first request for each article or story, in order."""
    first: dict[tuple[str, str], Decoded[RelateRefresh]] = {}
    for item in requests:
        first.setdefault((item.event.kind, item.event.id), item)
    return list(first.values())


async def on_article_enriched(
    article: ArticleEnriched, event_id: str, deps: RelateDependencies, *, replayed: bool = False
) -> None:
    """Store the article with its relations, then ask the writers of every other article or
    story it changed to write theirs again.

    What changed is what the article's insertion into the index changed, plus every article
    related to it: an article indexed before this one but handled earlier still gets this
    one into its list. After a restart (``replayed``: indexed in the start-up replay, whose
    order across partitions can differ from the order of first handling) the members of its
    story are refreshed too, since a merge it took part in may have been recorded as caused
    by an article that is not handled again.
    """
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
    relator = deps.relator
    changes = relator.changes_caused_by(article.id)
    slot = relator.index.slot_of[article.id]
    articles = relator.neighbours(article.id)
    stories = {relator.graph.story_of(slot)}
    if changes is not None:
        articles |= changes.related | changes.moved
        stories |= changes.stories | set(changes.absorbed)
    if replayed:
        articles.update(relator.story_members(article.id))
    requests = [
        RelateRefresh(kind="article", id=relator.id_of(other), requested_at=now)
        for other in sorted(articles - {slot})
    ] + [
        RelateRefresh(kind="story", id=relator.id_of(story), requested_at=now)
        for story in sorted(stories)
    ]
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
