"""The real servers and services the benchmarks run against, from deploy/local."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from newswire_contracts import cloudevents
from newswire_devstack.config import DevstackSettings, repo_root
from newswire_devstack.processes import ProcessManager
from newswire_devstack.stack import Stack
from pymongo import AsyncMongoClient


@dataclass(frozen=True)
class BenchStack:
    """Kafka and the store, and a namespace of topics and database for one benchmark."""

    settings: DevstackSettings
    stack: Stack
    prefix: str
    database: str

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def service_settings(self) -> DevstackSettings:
        return self.settings.model_copy(
            update={
                "topic_prefix": self.prefix,
                "mongodb_database": self.database,
                "ingest_port": free_port(),
                "enrich_port": free_port(),
                "relate_port": free_port(),
                "gateway_port": free_port(),
                "api_keys": ["bench"],
            }
        )


@asynccontextmanager
async def infrastructure(name: str) -> AsyncIterator[BenchStack]:
    """Kafka and the store (started if they are not running, stopped after if we started them).

    The benchmark's topics and database are removed after it: left behind, thousands of idle
    partitions cost the broker CPU in every later measure (34 ms a second idle on a fresh
    broker here, 47 with 1,200 partitions left by earlier runs), and a baseline measured
    after the current code would pay for the current code's leftovers.
    """
    settings = DevstackSettings()
    stack = Stack(settings)
    started = await stack.up(["kafka", "store"], echo=False)
    run_id = uuid.uuid4().hex[:8]
    bench = BenchStack(
        settings, stack, prefix=f"bench-{name}-{run_id}.", database=f"bench_{name}_{run_id}"
    )
    try:
        yield bench
    finally:
        try:
            await remove_namespace(bench)
        finally:
            stack.down(started, echo=False)


async def remove_namespace(bench: BenchStack) -> None:
    """Delete the benchmark's topics and drop its database."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bench.settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(bench.prefix)]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(bench.settings.mongodb_url)
    try:
        await client.drop_database(bench.database)
    finally:
        await client.close()


def service_stack(
    bench: BenchStack, env: dict[str, str] | None = None, python: Path | None = None
) -> Stack:
    """A stack of services in the benchmark's namespace, logging under .local/bench-runs;
    ``python``: run another checkout's services (bench.baseline)."""
    run_dir = Path(repo_root()) / ".local" / "bench-runs" / bench.prefix.rstrip(".")
    return Stack(
        bench.service_settings(),
        service_env=env or {},
        processes=ProcessManager(run_dir / "run", run_dir / "logs"),
        python=python,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def publish_all(bench: BenchStack, events: list[Any]) -> None:
    """The events on their topics of the bench's namespace, all at once, as CloudEvents."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bench.settings.kafka_bootstrap_servers, acks="all", linger_ms=5
    )
    await producer.start()
    try:
        sends = []
        for event in events:
            encoded = cloudevents.encode(event, source="/bench")
            sends.append(
                await producer.send(
                    bench.topic(encoded.topic),
                    encoded.value,
                    key=encoded.key,
                    headers=encoded.headers,
                )
            )
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
