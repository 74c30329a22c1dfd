"""Composition root of the gateway: settings -> clients -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from newswire_contracts import topics
from newswire_platform import (
    EventPublisher,
    create_broker,
    create_mongo_client,
    ensure_topics,
    run,
)
from newswire_platform.kafka import wait_for_kafka

from .config import GatewaySettings
from .limits import BodySizeLimit
from .problems import install_problem_handlers
from .routes import articles, feeds, health, stories
from .state import GatewayState
from .store import ArticleReader, FeedRegistry, StoryReader


def create_app(settings: GatewaySettings) -> FastAPI:
    """The gateway app; Kafka and the store are connected when it starts, not before."""
    broker = create_broker(settings)
    mongo = create_mongo_client(settings)
    state = GatewayState(
        settings=settings,
        broker=broker,
        publisher=EventPublisher(broker, settings),
        mongo=mongo,
        articles=ArticleReader(mongo[settings.mongodb_database]),
        feeds=FeedRegistry(mongo[settings.mongodb_database]),
        stories=StoryReader(mongo[settings.mongodb_database]),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await wait_for_kafka(settings)
        await ensure_topics(settings, [topics.INGEST_REQUESTS, topics.COMMENTS_POSTED])
        await broker.start()
        try:
            yield
        finally:
            await broker.stop()
            await mongo.close()

    app = FastAPI(
        title="Newswire API",
        version="1.0.0",
        summary="Articles, their enrichment, related articles and stories.",
        lifespan=lifespan,
    )
    app.state.gateway = state
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID", "If-None-Match"],
        )
    app.include_router(health.router)
    app.include_router(articles.router)
    app.include_router(feeds.router)
    app.include_router(stories.router)
    return app


def main() -> None:
    settings = GatewaySettings()
    run(settings, lambda: create_app(settings))


if __name__ == "__main__":
    main()
