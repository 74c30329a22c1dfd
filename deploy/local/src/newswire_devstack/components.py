"""The components of the local stack and how each is configured, started and probed."""

from __future__ import annotations

import base64
import subprocess
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from .config import DevstackSettings
from .processes import ProcessSpec
from .tools import ensure_ferretdb, ensure_kafka, require

__all__ = ["INFRASTRUCTURE", "SERVICES", "infrastructure_spec", "service_spec"]

INFRASTRUCTURE = ("kafka", "store")
SERVICES = ("ingest", "enrich", "relate", "gateway")

_LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
"""


async def probe_kafka(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.list_topics()
        return True
    finally:
        await admin.close()


async def probe_store(url: str) -> bool:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        url, serverSelectionTimeoutMS=1000
    )
    try:
        await client.admin.command("ping")
        return True
    finally:
        await client.close()


async def probe_http(url: str) -> bool:
    async with httpx.AsyncClient(timeout=2.0) as client:
        return (await client.get(url)).status_code == 200


def kafka_spec(settings: DevstackSettings) -> ProcessSpec:
    """One KRaft node in combined mode (broker and controller), storage formatted once."""
    home = ensure_kafka(settings)
    java = require("java")
    data = settings.data_dir / "kafka"
    config_dir = settings.local_dir / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    properties = config_dir / "kafka.properties"
    properties.write_text(_kafka_properties(settings, data))
    log4j = config_dir / "kafka-log4j2.properties"
    log4j.write_text(_LOG4J2)
    classpath = f"{home / 'libs'}/*"
    jvm = [
        java,
        f"-Xmx{settings.kafka_heap}",
        f"-Xms{_half(settings.kafka_heap)}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j}",
        "-cp",
        classpath,
    ]
    if not (data / "meta.properties").exists():
        cluster_id = _kafka_cluster_id(settings)
        result = subprocess.run(
            [
                *jvm,
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                # One argument: the tool's parser reads a separate id that starts with a dash
                # as an option and fails.
                f"--cluster-id={cluster_id}",
                "-c",
                str(properties),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")
    return ProcessSpec(
        name="kafka",
        argv=[*jvm, "kafka.Kafka", str(properties)],
        ports=(settings.kafka_port, settings.kafka_controller_port),
        ready=lambda: probe_kafka(settings.kafka_bootstrap_servers),
    )


def store_spec(settings: DevstackSettings) -> ProcessSpec:
    """FerretDB on its SQLite back end, listening where MONGODB_URL points."""
    binary = ensure_ferretdb(settings)
    data = settings.data_dir / "store"
    data.mkdir(parents=True, exist_ok=True)
    host, port = settings.store_address
    return ProcessSpec(
        name="store",
        argv=[
            str(binary),
            "--handler=sqlite",
            f"--sqlite-url=file:{data}/",
            f"--state-dir={data}",
            f"--listen-addr={host}:{port}",
            f"--debug-addr=127.0.0.1:{settings.store_debug_port}",
            "--telemetry=disable",
            "--log-level=error",  # WARN logs every unsupported endSessions
            "--log-format=json",
        ],
        ready=lambda: probe_store(settings.mongodb_url),
        # FerretDB decodes and re-encodes a whole document, field by field, on every read and
        # write; most of its garbage is that, and collecting it less often is cheap (its
        # live heap is tens of MB).
        env={"GOGC": str(settings.store_gogc)},
        ports=(port, settings.store_debug_port),
    )


def infrastructure_spec(name: str, settings: DevstackSettings) -> ProcessSpec:
    return kafka_spec(settings) if name == "kafka" else store_spec(settings)


def service_spec(
    name: str,
    settings: DevstackSettings,
    extra_env: Mapping[str, str] | None = None,
    python: Path | None = None,
) -> ProcessSpec:
    """One Newswire service as ``python -m newswire_<name>``, configured through its environment.

    ``python``: another checkout's interpreter (the benchmark's baseline), else this one's.
    """
    port = getattr(settings, f"{name}_port")
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "MONGODB_URL": settings.mongodb_url,
        "NEWSWIRE_MONGODB_DATABASE": settings.mongodb_database,
        "NEWSWIRE_TOPIC_PREFIX": settings.topic_prefix,
        "NEWSWIRE_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "NEWSWIRE_LOG_LEVEL": settings.log_level,
        f"NEWSWIRE_{name.upper()}_PORT": str(port),
        **(extra_env or {}),
    }
    if name == "gateway":
        env["NEWSWIRE_API_KEYS"] = ",".join(settings.api_keys)
    return ProcessSpec(
        name=name,
        argv=[str(python or sys.executable), "-m", f"newswire_{name}"],
        env=env,
        ready=lambda: probe_http(f"http://127.0.0.1:{port}/readyz"),
        ports=(port,),
    )


def _kafka_properties(settings: DevstackSettings, data: Path) -> str:
    host, port, controller = (
        settings.kafka_host,
        settings.kafka_port,
        settings.kafka_controller_port,
    )
    max_bytes = settings.kafka_max_message_bytes + 64 * 1024
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.bootstrap.servers={host}:{controller}",
            f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller}",
            f"advertised.listeners=PLAINTEXT://{host}:{port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={data}",
            # Topics are created explicitly by the services, with settings' partitions.
            "auto.create.topics.enable=false",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=10",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            # One node: nobody else will join, so do not wait for them.
            "group.initial.rebalance.delay.ms=0",
            f"message.max.bytes={max_bytes}",
            f"replica.fetch.max.bytes={max_bytes}",
            # Two cores: few threads.
            "num.network.threads=2",
            "num.io.threads=4",
            "num.recovery.threads.per.data.dir=1",
            "log.retention.hours=168",
            "",
        ]
    )


def _kafka_cluster_id(settings: DevstackSettings) -> str:
    """A KRaft cluster id (base64 of a UUID, 22 chars), kept with the data.

    Like Kafka's own ``Uuid.randomUuid``, never one that starts with a dash: one in 64 would,
    and command-line tools taking it as a separate argument read it as an option.
    """
    path = settings.data_dir / "kafka-cluster-id"
    if path.exists():
        return path.read_text().strip()
    cluster_id = "-"
    while cluster_id.startswith("-"):
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cluster_id)
    return cluster_id


def _half(size: str) -> str:
    number, unit = int(size[:-1]), size[-1]
    return (
        f"{max(1, number * 1024 // 2)}m" if unit.lower() == "g" else f"{max(1, number // 2)}{unit}"
    )
