"""Composition root of the gateway: settings -> clients -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from newswire_contracts import CommentPosted, IngestRequest, topics
from newswire_platform import EventPublisher, create_broker, create_mongo_client, ensure_topics, run
from newswire_platform.kafka import declare_published, wait_for_kafka

from .adapters.article_cache import ArticleCache
from .adapters.articles import ArticleReader
from .adapters.comments import CommentStore
from .adapters.feeds import FeedRegistry
from .adapters.publisher import Publisher
from .adapters.stories import StoryReader
from .config import GatewaySettings
from .domain.ratelimit import RateLimiter
from .limits import BodySizeLimit
from .live import LiveFeed
from .metrics import RequestMetrics
from .openapi import install_openapi
from .problems import install_problem_handlers
from .routes import articles, comments, docs, feeds, health, stories, stream
from .routing import add_routes
from .state import GatewayState
from .tracing import RequestTracing
from .web import install as install_web


def create_app(settings: GatewaySettings) -> FastAPI:
    """The gateway app; Kafka and the store are connected when it starts, not before."""
    broker = create_broker(settings)
    declare_published(
        broker,
        settings,
        {
            IngestRequest: "Commands for ingest, told apart by kind: an article to ingest (given "
            "inline or to be fetched) or a feed to subscribe or unsubscribe. Keyed by the "
            "article's canonical URL or by feed id.",
            CommentPosted: "Comments readers post on articles. Keyed by article id.",
        },
    )
    mongo = create_mongo_client(settings)
    database = mongo[settings.mongodb_database]
    cache = ArticleCache(settings.article_cache_size, settings.article_cache_seconds)
    state = GatewayState(
        settings=settings,
        broker=broker,
        publisher=Publisher(EventPublisher(broker, settings)),
        mongo=mongo,
        articles=ArticleReader(database, cache),
        feeds=FeedRegistry(database),
        stories=StoryReader(database),
        comments=CommentStore(database),
        comment_limiter=RateLimiter(settings.comment_rate_per_minute, settings.comment_burst),
        live=LiveFeed(
            settings,
            {
                "r": settings.topic(topics.ARTICLES_RELATED),
                "s": settings.topic(topics.STORIES_UPDATED),
            },
            listeners=[
                lambda event: cache.invalidate(event.subject) if event.kind == "article" else None
            ],
        ),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await wait_for_kafka(settings)
        await ensure_topics(
            settings,
            [
                topics.INGEST_REQUESTS,
                topics.COMMENTS_POSTED,
                topics.ARTICLES_RELATED,
                topics.STORIES_UPDATED,
            ],
        )
        await broker.start()
        await state.articles.create_indexes()
        await state.stories.create_indexes()
        await state.live.start()
        try:
            yield
        finally:
            await state.live.stop()
            await broker.stop()
            await mongo.close()

    app = FastAPI(
        title="Newswire API",
        version="1.0.0",
        summary="Articles, their enrichment, related articles and stories.",
        lifespan=lifespan,
    )
    app.state.gateway = state
    install_openapi(app)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestMetrics)
    app.add_middleware(RequestTracing)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID", "If-None-Match"],
        )
    # Requests are matched against the routes in order: the busiest reads first.
    for module in (articles, stories, comments, stream, feeds, health, docs):
        add_routes(app, module.router)
    install_web(app)  # the reader's pages (/, /articles/..., ...) and /static
    return app


def main() -> None:
    settings = GatewaySettings()
    run(settings, lambda: create_app(settings))
