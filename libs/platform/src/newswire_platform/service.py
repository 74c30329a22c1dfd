"""Running a consumer service: start-up order, health and metrics endpoints, shutdown.

Each service's ``main.py`` builds its broker and handlers, then hands them to
``consumer_service``; ``serve`` runs the result under uvicorn, which turns SIGTERM and
SIGINT into an orderly stop (consumers stop fetching, in-flight handlers get
``graceful_timeout`` to finish, producers flush).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
import uvloop
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.specification import AsyncAPI
from pymongo import AsyncMongoClient

from .commits import IntervalCommits
from .dead_letter import DeadLetterPolicy, DeadLetterProducer
from .kafka import (
    EventPublisher,
    create_broker,
    declare_dead_letters,
    declare_published,
    ensure_topics,
    wait_for_kafka,
)
from .lag import LagMonitor
from .logging import configure_logging
from .metrics import broker_metrics_middleware, metrics_asgi_app
from .mongo import ping_mongo, wait_for_mongo
from .settings import ServiceSettings

__all__ = ["ConsumerParts", "consumer_parts", "consumer_service", "run", "serve"]

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[bool]]
Hook = Callable[[], Awaitable[Any]]


def readiness_handler(checks: Mapping[str, ReadinessCheck]):  # type: ignore[no-untyped-def]
    """An ASGI GET handler: 200 when every check passes, else 503, with each check's result."""

    @get(include_in_schema=False)
    async def ready(scope: Any) -> AsgiResponse:
        results = {name: await check() for name, check in checks.items()}
        status = 200 if all(results.values()) else 503
        body = json.dumps({"ready": status == 200, "checks": results}).encode()
        return AsgiResponse(body, status, headers={"content-type": "application/json"})

    return ready


@get(include_in_schema=False)
async def _alive(scope: Any) -> AsgiResponse:
    return AsgiResponse(b'{"alive": true}', 200, headers={"content-type": "application/json"})


@dataclass(frozen=True)
class ConsumerParts:
    """A consumer service's broker (with metrics and dead letters) and event publisher."""

    broker: KafkaBroker
    publisher: EventPublisher
    dead_letters: DeadLetterProducer
    policy: DeadLetterPolicy
    published: tuple[str, ...]
    """The contract names of the topics it publishes, the dead-letter one included."""
    commits: IntervalCommits


def consumer_parts(
    settings: ServiceSettings, *, dead_letter_topic: str, publishes: Mapping[Any, str]
) -> ConsumerParts:
    """The parts, with the events the service publishes (model -> description) and its
    dead-letter topic declared for its AsyncAPI document."""
    dead_letters = DeadLetterProducer(settings)
    policy = DeadLetterPolicy(
        service=settings.service_name,
        dead_letter_topic=dead_letter_topic,
        producer=dead_letters,
        max_attempts=settings.consumer_max_attempts,
        initial_delay=settings.retry_initial_seconds,
        max_delay=settings.retry_max_seconds,
    )
    commits = IntervalCommits(settings.kafka_commit_interval_ms / 1000)
    broker = create_broker(
        settings,
        middlewares=[
            broker_metrics_middleware(settings.service_name),
            policy.middleware,
            commits.middleware,
        ],
    )
    declare_published(broker, settings, publishes)
    declare_dead_letters(broker, settings, dead_letter_topic)
    published = (*(model.topic for model in publishes), dead_letter_topic)
    return ConsumerParts(
        broker, EventPublisher(broker, settings), dead_letters, policy, published, commits
    )


def consumer_service(
    settings: ServiceSettings,
    parts: ConsumerParts,
    *,
    routers: Iterable[KafkaRouter] = (),
    topics: Iterable[str],
    store: AsyncMongoClient[dict[str, Any]] | None = None,
    on_startup: Iterable[Hook] = (),
    after_startup: Iterable[Hook] = (),
    before_shutdown: Iterable[Hook] = (),
    on_shutdown: Iterable[Hook] = (),
    checks: Mapping[str, ReadinessCheck] | None = None,
    title: str,
    description: str = "",
) -> AsgiFastStream:
    """A whole consumer service from its parts and its routers (subscribers), as a FastStream
    ASGI app: waits for Kafka, creates the ``topics`` it consumes and those it publishes,
    runs hooks, then consumes.

    ``on_startup`` hooks run before the broker starts and ``after_startup`` ones once it
    consumes and can publish; ``before_shutdown`` hooks run while it can still publish, and
    ``on_shutdown`` ones (in reverse order) after it has stopped. A ``store`` is waited for
    before the hooks and closed after them.

    Serves ``/healthz`` (the process runs), ``/readyz`` (Kafka, the store and any extra
    checks answer) and ``/metrics``.
    """
    broker = parts.broker
    for router in routers:
        broker.include_router(router)
    lag = LagMonitor(settings)
    startup: list[Hook] = [parts.dead_letters.start]
    shutdown: list[Hook] = [parts.dead_letters.stop]
    topic_names = tuple(dict.fromkeys((*topics, *parts.published)))

    async def broker_ready() -> bool:
        return bool(await broker.ping(timeout=2.0))

    ready: dict[str, ReadinessCheck] = {"kafka": broker_ready}
    if store is not None:
        startup.append(lambda: wait_for_mongo(store))
        shutdown.append(store.close)
        ready["store"] = lambda: ping_mongo(store)
    startup += on_startup
    shutdown += on_shutdown

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        await wait_for_kafka(settings)
        await ensure_topics(settings, topic_names)
        for hook in startup:
            await hook()
        log.info("service starting", extra={"topics": [settings.topic(t) for t in topic_names]})
        try:
            yield
        finally:
            for hook in reversed(shutdown):
                try:
                    await hook()
                except Exception:
                    log.exception("shutdown hook failed")
            log.info("service stopped")

    return AsgiFastStream(
        broker,
        logger=logging.getLogger(f"newswire.{settings.service_name}.app"),
        lifespan=lifespan,
        after_startup=(*after_startup, lag.start),
        # Pending offsets first: from then on each handled message is committed at once, so
        # what the subscribers finish while they stop is committed too.
        on_shutdown=(parts.commits.close, lag.stop, *before_shutdown),
        specification=AsyncAPI(broker, title=title, description=description),
        asgi_routes=[
            ("/healthz", _alive),
            ("/readyz", readiness_handler({**ready, **(checks or {})})),
            ("/metrics", metrics_asgi_app()),
        ],
    )


def run(settings: ServiceSettings, build_app: Callable[[], Any]) -> None:
    """Entry point body: configure logging, build the app, serve it until stopped."""
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    loop_factory = uvloop.new_event_loop if settings.event_loop == "uvloop" else None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(serve(build_app(), settings))


async def serve(app: Any, settings: ServiceSettings) -> None:
    """Run an ASGI app on the service's HTTP port until SIGTERM or SIGINT."""
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # keep our JSON logging
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
        http="httptools",  # uvicorn's C parser (its default when installed); h11 is pure Python
    )
    server = uvicorn.Server(config)
    await server.serve()
    if getattr(server, "started", True) is False:
        raise SystemExit(1)
