"""Fixtures shared by every test ring: the real broker and store, and the running pipeline.

Where the broker and store come from, in this order:

1. ``NEWSWIRE_TEST_CONTAINERS=1``: testcontainers, on the images compose runs (the official
   apache/kafka and mongo:8, or where they cannot be pulled the stand-ins of deploy/images/).
   ``make test`` runs the integration ring this way too.
2. ``KAFKA_BOOTSTRAP_SERVERS`` / ``MONGODB_URL`` set: those servers.
3. Otherwise the local stack (deploy/local): Kafka and FerretDB under ``.local/``, started
   if not running and stopped again at the end if this session started them.

Each session works in its own namespace (topic prefix, database, consumer groups), so
tests never see each other's messages or documents, even on a shared broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
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

    def service_logs(self) -> dict[str, str]:
        processes = self.stack.processes
        return {
            log.stem: processes.log_tail(log.stem, 400)
            for log in sorted(processes.logs_dir.glob("*.log"))
        }


@pytest.fixture(scope="session")
async def infrastructure() -> AsyncIterator[Infrastructure]:
    if TestRunSettings().containers:
        async with _containers() as found:
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


@asynccontextmanager
async def _containers() -> AsyncIterator[Infrastructure]:
    """Kafka and the store in containers, started and removed by this session.

    testcontainers' own reaper (Ryuk) is an image that cannot be pulled here, so it is off and
    the containers are removed by this function. Its Kafka module only drives Confluent's
    image, so Kafka runs as a plain container configured the way apache/kafka is (the
    stand-in image honours the same variables).
    """
    from newswire_devstack.components import probe_kafka, probe_store
    from newswire_devstack.engine import ensure_engine
    from newswire_devstack.images import IMAGES, compose_images, official_default
    from testcontainers.core.config import testcontainers_config
    from testcontainers.core.container import DockerContainer

    testcontainers_config.ryuk_disabled = True
    settings = DevstackSettings()
    await asyncio.to_thread(ensure_engine, settings)
    chosen = await asyncio.to_thread(compose_images, settings)
    image = {i.variable: chosen.get(i.variable) or official_default(i) for i in IMAGES}
    kafka_port, store_port = _free_port(), _free_port()
    kafka = (
        DockerContainer(image["KAFKA_IMAGE"])
        .with_bind_ports(9092, kafka_port)
        .with_envs(
            CLUSTER_ID="nwtestcontainersclust",
            KAFKA_NODE_ID="1",
            KAFKA_PROCESS_ROLES="broker,controller",
            KAFKA_LISTENERS="HOST://:9092,INTERNAL://:19092,CONTROLLER://:9093",
            # Clients reach it on the published port; the node reaches itself inside.
            KAFKA_ADVERTISED_LISTENERS=f"HOST://127.0.0.1:{kafka_port},INTERNAL://localhost:19092",
            KAFKA_LISTENER_SECURITY_PROTOCOL_MAP="HOST:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
            KAFKA_INTER_BROKER_LISTENER_NAME="INTERNAL",
            KAFKA_CONTROLLER_LISTENER_NAMES="CONTROLLER",
            KAFKA_CONTROLLER_QUORUM_VOTERS="1@localhost:9093",
            KAFKA_AUTO_CREATE_TOPICS_ENABLE="false",
            KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_MIN_ISR="1",
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR="1",
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR="1",
            KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS="0",
            KAFKA_MESSAGE_MAX_BYTES="4718592",
        )
    )
    store = DockerContainer(image["MONGODB_IMAGE"]).with_bind_ports(27017, store_port)
    bootstrap = f"127.0.0.1:{kafka_port}"
    mongodb_url = f"mongodb://127.0.0.1:{store_port}"
    started: list[DockerContainer] = []
    try:
        for container in (kafka, store):
            await asyncio.to_thread(container.start)
            started.append(container)
        await _until_answers(lambda: probe_kafka(bootstrap), "Kafka's container")
        await _until_answers(lambda: probe_store(mongodb_url), "the store's container")
        yield Infrastructure(
            bootstrap, mongodb_url, origin=f"testcontainers ({', '.join(image.values())})"
        )
    finally:
        for container in started:
            await asyncio.to_thread(container.stop)


async def _until_answers(probe: Any, what: str, timeout: float = 180.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        with contextlib.suppress(Exception):
            if await probe():
                return
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"{what} did not answer in {timeout:.0f}s")
        await asyncio.sleep(1.0)


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
    infrastructure: Infrastructure,
    namespace: Namespace,
    web: TestServer,
    *,
    env: dict[str, str] | None = None,
) -> AsyncIterator[Pipeline]:
    """Start ingest, enrich, relate and gateway as processes in ``namespace``; stop them at the
    end. ``env`` adds to (or overrides) the services' settings."""
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
            # Pages that failed for now are tried again within seconds, and a claim left by
            # an instance killed by a test is taken over after 10 s rather than 2 minutes.
            "NEWSWIRE_PAGE_RETRY_SECONDS": "1",
            "NEWSWIRE_PAGE_RETRY_MAX_SECONDS": "2",
            "NEWSWIRE_ARTICLE_CLAIM_SECONDS": "10",
            **(env or {}),
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
    """A failed test that ran a pipeline or compose stack reports the end of each service's log.

    A failure on a CI machine is otherwise seen only from the outside (a timeout); what the
    services said is what explains it.
    """
    report = yield
    if report.failed and call.when == "call":
        for running in getattr(item, "funcargs", {}).values():
            # Looked up on the type: a database fixture answers any attribute with a collection.
            if not callable(getattr(type(running), "service_logs", None)):
                continue
            for name, log in running.service_logs().items():
                lines = [
                    line[:400]
                    for line in log.splitlines()
                    if '"uvicorn.access"' not in line and '"httpx"' not in line
                ]
                report.sections.append((f"service log: {name}", "\n".join(lines[-40:])))
    return report


def pytest_configure() -> None:
    # The fixtures probe a broker that may still be starting; aiokafka logs each refusal.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def pytest_report_header() -> list[str]:
    return [
        f"newswire: repository {Path(repo_root()).name}, tests against real Kafka and a MongoDB-wire store"
    ]
