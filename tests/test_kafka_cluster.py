"""Outgrowing one machine: the compose stack on three Kafka brokers (compose.cluster.yaml).

A broker is killed under load and brought back: every article still arrives once, and the
consumers carry on through it. Driven from outside, like the compose ring.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from newswire_devstack.compose import CLUSTER_FILE

from tests.compose_stacks import Deployed, corpus_articles, deployed, listed, settled_read_model
from tests.support import eventually
from tests.test_faults import submit_all

pytestmark = [pytest.mark.compose, pytest.mark.timeout(1800)]

TOPICS = ("ingest.requests", "articles.ingested", "articles.enriched", "articles.related")


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployed]:
    async with deployed(tmp_path_factory.mktemp("site"), extra_files=[CLUSTER_FILE]) as project:
        yield project


def describe(cluster: Deployed, topic: str) -> str:
    """kafka-topics.sh --describe, run in a broker's container."""
    return cluster.compose(
        "exec",
        "-T",
        "kafka",
        "/opt/kafka/bin/kafka-topics.sh",
        "--bootstrap-server",
        "kafka:9092",
        "--describe",
        "--topic",
        topic,
    )


def partition_lines(description: str) -> list[str]:
    return [line for line in description.splitlines() if "Partition:" in line]


def in_sync(partition_line: str) -> int:
    """How many replicas of the partition are in sync (its ``Isr:`` list)."""
    return len(partition_line.split("Isr: ")[1].split()[0].split(","))


async def test_topics_have_three_replicas_and_need_two_in_sync(cluster: Deployed) -> None:
    for topic in TOPICS:
        description = await asyncio.to_thread(describe, cluster, topic)
        assert "ReplicationFactor: 3" in description, description
        assert "min.insync.replicas=2" in description, description
        # Every partition is on all three brokers.
        partitions = partition_lines(description)
        assert partitions, description
        assert all(in_sync(line) == 3 for line in partitions), description


async def test_a_broker_killed_under_load_loses_and_duplicates_nothing(cluster: Deployed) -> None:
    submissions = corpus_articles("cluster-kill", 120)
    ids = [submission.id for submission in submissions]
    bodies = [submission.body for submission in submissions]
    events: list[str] = []

    async def kill_a_broker() -> None:
        await asyncio.sleep(3)
        await asyncio.to_thread(cluster.compose, "kill", "--signal", "SIGKILL", "kafka-2")
        events.append("killed kafka-2")
        # Load goes on with two of three brokers (min.insync.replicas=2) ...
        await asyncio.sleep(10)
        await asyncio.to_thread(
            cluster.compose, "up", "--detach", "--wait", "--no-build", "kafka-2"
        )
        events.append("kafka-2 back")

    async with httpx.AsyncClient(base_url=cluster.gateway_url, timeout=30) as client:
        await asyncio.gather(submit_all(client, cluster.auth, bodies, rate=8.0), kill_a_broker())
        assert events == ["killed kafka-2", "kafka-2 back"]
        model = await settled_read_model(cluster, client, ids)
        listing = await listed(client)
    # ... and afterwards every article is there once, processed by every stage.
    assert all(article["version"] == 1 for article in model.values())
    assert all(article["story_id"] and article["keywords"] for article in model.values())
    assert sorted(i for i, url in listing if "/cluster-kill/" in url) == sorted(ids)

    # The returning broker catches up: every partition has its three replicas in sync again.
    async def all_in_sync() -> bool:
        for topic in TOPICS:
            description = await asyncio.to_thread(describe, cluster, topic)
            if not all(in_sync(line) == 3 for line in partition_lines(description)):
                return False
        return True

    await eventually(all_in_sync, timeout=120, interval=3, what="kafka-2 back in every ISR")
