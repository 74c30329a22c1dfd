"""Composition root of the ingest service: settings -> clients -> stores -> broker -> app."""

from __future__ import annotations

from datetime import UTC, datetime

from faststream.asgi import AsgiFastStream
from newswire_contracts import ArticleIngested, topics
from newswire_platform import consumer_parts, consumer_service, create_mongo_client, run

from .adapters.article_store import ArticleVersions
from .adapters.entry_store import EntryStore
from .adapters.feed_store import FeedStore
from .adapters.fetching import Fetcher, FetchOptions
from .adapters.publishing import ArticleSink
from .config import IngestSettings
from .domain.page_retries import PageRetryTiming
from .domain.schedule import PollTiming
from .handlers import IngestDependencies, build_router
from .poller import FeedPoller
from .scheduler import FeedScheduler


def _now() -> datetime:
    return datetime.now(UTC)


def fetch_options(settings: IngestSettings) -> FetchOptions:
    """The fetcher's manners and limits, from the settings."""
    return FetchOptions(
        user_agent=settings.fetch_user_agent,
        connect_timeout_seconds=settings.fetch_connect_timeout_seconds,
        timeout_seconds=settings.fetch_timeout_seconds,
        max_bytes=settings.fetch_max_bytes,
        max_redirects=settings.fetch_max_redirects,
        per_host_concurrency=settings.fetch_per_host_concurrency,
        allow_hosts=tuple(settings.fetch_allow_hosts),
    )


def build_app(settings: IngestSettings) -> AsgiFastStream:
    """The ingest service as an ASGI app; nothing connects until it starts."""
    client = create_mongo_client(settings)
    database = client[settings.mongodb_database]
    parts = consumer_parts(
        settings,
        dead_letter_topic=topics.INGEST_DLQ,
        publishes={
            ArticleIngested: "Articles accepted and extracted, from submissions and feeds: one "
            "event per new article and per changed version of one. Keyed by article id.",
        },
    )
    fetcher = Fetcher(fetch_options(settings))
    sink = ArticleSink(
        parts.publisher,
        ArticleVersions(database),
        _now,
        lease_seconds=settings.article_claim_seconds,
    )
    feeds = FeedStore(database)
    timing = PollTiming(
        default_seconds=settings.feed_default_interval_seconds,
        min_seconds=settings.feed_min_interval_seconds,
        max_seconds=settings.feed_max_interval_seconds,
        max_backoff_seconds=settings.feed_max_backoff_seconds,
        jitter_ratio=settings.feed_jitter_ratio,
    )
    poller = FeedPoller(
        fetcher,
        sink,
        EntryStore(database),
        feeds,
        max_entries=settings.feed_max_entries_per_poll,
        full_text_min_chars=settings.full_text_min_chars,
        page_timing=PageRetryTiming(
            first_seconds=settings.page_retry_seconds,
            max_seconds=settings.page_retry_max_seconds,
            attempts=settings.page_retry_attempts,
            jitter_ratio=settings.feed_jitter_ratio,
        ),
        clock=_now,
        page_concurrency=settings.page_fetch_concurrency,
    )
    scheduler = FeedScheduler(
        feeds,
        poller,
        timing,
        clock=_now,
        concurrency=settings.feed_poll_concurrency,
        poll_timeout_seconds=settings.feed_poll_timeout_seconds,
        watchdog_seconds=settings.feed_watchdog_seconds,
    )
    deps = IngestDependencies(
        fetcher=fetcher, sink=sink, feeds=feeds, scheduler=scheduler, timing=timing, clock=_now
    )

    return consumer_service(
        settings,
        parts,
        routers=[build_router(settings, deps)],
        topics=[topics.INGEST_REQUESTS],
        store=client,
        after_startup=[scheduler.start],
        before_shutdown=[scheduler.stop],
        on_shutdown=[fetcher.aclose],
        title="Newswire ingest",
        description="Polls feeds, fetches and extracts pages, accepts submissions; publishes articles.ingested.",
    )


def main() -> None:
    settings = IngestSettings()
    run(settings, lambda: build_app(settings))
