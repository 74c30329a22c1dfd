"""Ingest's subscribers: article and feed commands in, ingested articles out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiokafka import ConsumerRebalanceListener, TopicPartition
from faststream.kafka import KafkaMessage, KafkaRouter
from newswire_contracts import IngestArticle, IngestFeed, IngestRequest
from newswire_platform import PermanentError, TransientError, bind, event_subscriber

from .adapters.feed_store import FeedStore
from .adapters.fetching import Fetcher, FetchError, fetch_page
from .adapters.publishing import ArticleSink
from .config import IngestSettings
from .domain.articles import ArticleRejected, article_from_submission
from .domain.feed_state import subscribed_state
from .domain.schedule import PollTiming
from .domain.versions import Basis
from .scheduler import FeedScheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestDependencies:
    fetcher: Fetcher
    sink: ArticleSink
    feeds: FeedStore
    scheduler: FeedScheduler
    timing: PollTiming
    clock: Callable[[], datetime]


class _FeedOwnership(ConsumerRebalanceListener):  # type: ignore[misc]
    """Hands the feeds of assigned partitions to the scheduler, and takes revoked ones away."""

    def __init__(self, topic: str, scheduler: FeedScheduler) -> None:
        self._topic = topic
        self._scheduler = scheduler

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._scheduler.revoke(tp.partition for tp in revoked if tp.topic == self._topic)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._scheduler.assign(tp.partition for tp in assigned if tp.topic == self._topic)


def build_router(settings: IngestSettings, deps: IngestDependencies) -> KafkaRouter:
    """The ingest subscribers."""
    router = KafkaRouter()

    @event_subscriber(
        router,
        settings,
        IngestRequest,
        description="Ingests a submitted article, or subscribes or unsubscribes a feed.",
        listener=_FeedOwnership(settings.topic(IngestRequest.topic), deps.scheduler),
    )
    async def on_ingest_requested(
        command: IngestArticle | IngestFeed, message: KafkaMessage
    ) -> None:
        await ingest_requested(command, message.raw_message.partition, deps)

    return router


async def ingest_requested(
    command: IngestArticle | IngestFeed, partition: int, deps: IngestDependencies
) -> None:
    """Handle one command from ``partition``; what can never succeed raises PermanentError
    (dead-lettered at once), a fetch that may yet succeed its FetchError (retried)."""
    try:
        if isinstance(command, IngestFeed):
            await on_feed_command(command, partition, deps)
        else:
            await on_article_command(command, deps)
    except ArticleRejected as exc:
        raise PermanentError(str(exc)) from exc
    except FetchError as exc:
        if exc.permanent:
            raise PermanentError(f"cannot fetch {command.url}: {exc.reason}") from exc
        raise  # retried, then dead-lettered with the reason


async def on_article_command(command: IngestArticle, deps: IngestDependencies) -> None:
    """Publish the article a submission describes, its page fetched when it brings no text."""
    page = fetched_url = None
    if not command.text and not command.html:
        fetched_url, page = await fetch_page(deps.fetcher, command.url)
    # Extraction parses HTML: keep it off the event loop so heartbeats keep flowing.
    article = await asyncio.to_thread(
        article_from_submission, command, now=deps.clock(), page=page, fetched_url=fetched_url
    )
    bind(article_id=article.id)
    offered = await deps.sink.offer(article, Basis.submission())
    if offered.outcome == "pending":
        # Another writer's claim on the article neither resolved nor went stale in time.
        raise TransientError(f"article {article.id} is being published by another writer")


async def on_feed_command(command: IngestFeed, partition: int, deps: IngestDependencies) -> None:
    """Subscribe or unsubscribe a feed; this instance owns it, its command came here."""
    bind(feed_id=command.feed_id)
    if command.action == "unsubscribe":
        await deps.feeds.delete(command.feed_id)
        deps.scheduler.remove(command.feed_id)
        log.info("feed unsubscribed", extra={"url": command.url})
        return
    existing = await deps.feeds.get(command.feed_id)
    state = subscribed_state(
        command, existing, partition=partition, now=deps.clock(), timing=deps.timing
    )
    await deps.feeds.subscribe(state)
    deps.scheduler.add(state)
    log.info("feed subscribed", extra={"url": command.url, "new": existing is None})
