"""Fixtures shared by every test ring: the real broker and store, and the running pipeline.

Where the broker and store come from, in this order:

1. ``NEWSWIRE_TEST_CONTAINERS=1`` and a Docker engine: testcontainers (apache/kafka, mongo:8).
2. ``KAFKA_BOOTSTRAP_SERVERS`` / ``MONGODB_URL`` set: those servers.
3. Otherwise the local stack (deploy/local): Kafka and FerretDB under ``.local/``, started
   if not running and stopped again at the end if this session started them.

Each session works in its own namespace (topic prefix, database, consumer groups), so
tests never see each other's messages or documents, even on a shared broker.
"""

from __future__ import annotations

import logging
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from newswire_devstack.components import SERVICES
from newswire_devstack.config import DevstackSettings, repo_root
from newswire_devstack.processes import ProcessManager
from newswire_devstack.stack import Stack
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.httpserver import TestServer
from tests.support import INGEST_USER_AGENT


class TestRunSettings(BaseSettings):
    """How the test run finds its servers (``NEWSWIRE_TEST_*``)."""

    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_TEST_")

    containers: bool = False
    keep_logs: bool = True


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap_servers: str
    mongodb_url: str
    origin: str


@dataclass(frozen=True)
class Namespace:
    """Isolates one test session on shared servers."""

    name: str

    @property
    def topic_prefix(self) -> str:
        return f"{self.name}."

    @property
    def database(self) -> str:
        return f"newswire_{self.name}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


@dataclass
class Pipeline:
    """The four services running as processes against the test namespace."""

    gateway_url: str
    api_key: str
    stack: Stack
    infrastructure: Infrastructure
    namespace: Namespace

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@pytest.fixture(scope="session")
async def infrastructure() -> AsyncIterator[Infrastructure]:
    if TestRunSettings().containers:
        with _containers() as found:
            yield found
        return
    settings = DevstackSettings()
    # Shared with other test sessions and benchmarks running at the same time.
    async with Stack(settings).lease():
        yield Infrastructure(
            settings.kafka_bootstrap_servers,
            settings.mongodb_url,
            origin="external" if settings.kafka_is_external else "local stack",
        )


@contextmanager
def _containers() -> Iterator[Infrastructure]:  # Docker only; cannot run here
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    with (
        KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka,
        MongoDbContainer("mongo:8") as mongo,
    ):
        yield Infrastructure(
            kafka.get_bootstrap_server(), mongo.get_connection_url(), origin="testcontainers"
        )


@pytest.fixture(scope="session")
def namespace() -> Namespace:
    return Namespace(f"t{uuid.uuid4().hex[:10]}")


@pytest.fixture
async def scratch_database(
    infrastructure: Infrastructure, namespace: Namespace
) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """A database of the test's own in the real store, dropped afterwards."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        infrastructure.mongodb_url, tz_aware=True
    )
    database = client[f"{namespace.database}_{uuid.uuid4().hex[:8]}"]
    try:
        yield database
    finally:
        await client.drop_database(database.name)
        await client.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def web() -> Iterator[TestServer]:
    """An HTTP server in the test process, serving feeds and pages to ingest.

    The pipeline's ingest allowlists it (NEWSWIRE_FETCH_ALLOW_HOSTS): it is on loopback.
    """
    with TestServer() as server:
        yield server


@asynccontextmanager
async def running_pipeline(
    infrastructure: Infrastructure, namespace: Namespace, web: TestServer
) -> AsyncIterator[Pipeline]:
    """Start ingest, enrich, relate and gateway as processes in ``namespace``; stop them at the end."""
    run_dir = repo_root() / ".local" / "test-runs" / namespace.name
    settings = DevstackSettings(
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        mongodb_url=infrastructure.mongodb_url,
        mongodb_database=namespace.database,
        topic_prefix=namespace.topic_prefix,
        topic_partitions=3,
        gateway_port=_free_port(),
        ingest_port=_free_port(),
        enrich_port=_free_port(),
        relate_port=_free_port(),
        api_keys=[f"test-key-{namespace.name}"],
    )
    stack = Stack(
        settings,
        service_env={
            # Tests inject failures; retries must not make them wait for minutes.
            "NEWSWIRE_RETRY_MAX_SECONDS": "2",
            "NEWSWIRE_FETCH_ALLOW_HOSTS": web.host,
            "NEWSWIRE_FETCH_USER_AGENT": INGEST_USER_AGENT,
            # Feeds are polled every 1 to 3 s, so tests see several polls quickly.
            "NEWSWIRE_FEED_DEFAULT_INTERVAL_SECONDS": "2",
            "NEWSWIRE_FEED_MIN_INTERVAL_SECONDS": "1",
            "NEWSWIRE_FEED_MAX_INTERVAL_SECONDS": "3",
            "NEWSWIRE_FEED_MAX_BACKOFF_SECONDS": "3",
        },
        processes=ProcessManager(run_dir / "run", run_dir / "logs"),
    )
    await stack.up(SERVICES, echo=False)
    try:
        yield Pipeline(
            gateway_url=f"http://127.0.0.1:{settings.gateway_port}",
            api_key=settings.api_keys[0],
            stack=stack,
            infrastructure=infrastructure,
            namespace=namespace,
        )
    finally:
        stack.down(SERVICES, echo=False)
        if not TestRunSettings().keep_logs:
            shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="session")
async def pipeline(
    infrastructure: Infrastructure, namespace: Namespace, web: TestServer
) -> AsyncIterator[Pipeline]:
    """The session's pipeline, shared by the tests that only submit and read."""
    async with running_pipeline(infrastructure, namespace, web) as started:
        yield started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A failed test that ran the pipeline reports the end of each service's log.

    A failure on a CI machine is otherwise seen only from the outside (a timeout); what the
    services said is what explains it.
    """
    report = yield
    pipeline = getattr(item, "funcargs", {}).get("pipeline")
    if report.failed and call.when == "call" and isinstance(pipeline, Pipeline):
        processes = pipeline.stack.processes
        for log in sorted(processes.logs_dir.glob("*.log")):
            lines = [
                line[:400]
                for line in processes.log_tail(log.stem, 400).splitlines()
                if '"uvicorn.access"' not in line and '"httpx"' not in line
            ]
            report.sections.append((f"service log: {log.stem}", "\n".join(lines[-40:])))
    return report


def pytest_configure() -> None:
    # The fixtures probe a broker that may still be starting; aiokafka logs each refusal.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def pytest_report_header() -> list[str]:
    return [
        f"newswire: repository {Path(repo_root()).name}, tests against real Kafka and a MongoDB-wire store"
    ]
