"""`newswire dlq list` and `newswire dlq replay` against the running pipeline.

The replay test runs first: it can then expect the second `replay --all` to send nothing
at all (a poison message replayed by an earlier `--all` would come back as a new dead
letter for the next one to replay).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from newswire_contracts import ArticleIngested, article_id, canonicalize_url, cloudevents

from tests.support import eventually, header, partitions_of, produce_raw, read_topic

pytestmark = pytest.mark.e2e

TEXT = "Ministers met in Brussels on Tuesday to discuss the new sanctions package against Russia."


def ingested(url: str) -> cloudevents.EncodedEvent:
    event = ArticleIngested(
        id=article_id(url),
        url=url,
        source="Test",
        title="Sanctions",
        text=TEXT,
        ingested_at=datetime.now(UTC),
        content_hash="d" * 64,
    )
    return cloudevents.encode(event, source="/tests")


async def newswire(pipeline: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "newswire_cli",
            "--bootstrap",
            pipeline.infrastructure.kafka_bootstrap_servers,
            "--topic-prefix",
            pipeline.namespace.topic_prefix,
            "dlq",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def listed(pipeline: Any, ce_id: str) -> list[dict[str, Any]]:
    """The dead letters of enrich carrying the event ``ce_id``, from `dlq list --json`."""
    result = await newswire(pipeline, "list", "enrich", "--json")
    assert result.returncode == 0, result.stderr
    letters = [json.loads(line) for line in result.stdout.splitlines()]
    return [letter for letter in letters if ["ce_id", ce_id] in letter["headers"]]


async def read_all(bootstrap: str, topic: str) -> list[ConsumerRecord[Any, Any]]:
    """Every record of ``topic`` up to its current end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await partitions_of(bootstrap, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[Any, Any]] = []
        while any([await consumer.position(tp) < end[tp] for tp in partitions]):
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(
                    r for r in batch if r.offset < end[TopicPartition(r.topic, r.partition)]
                )
        return records
    finally:
        await consumer.stop()


def replayed_offsets(output: str) -> list[str]:
    """``P:O`` of every "replayed P:O -> ..." line."""
    return [line.split()[1] for line in output.splitlines() if line.startswith("replayed ")]


async def test_replay_sends_a_dead_letter_back_once(pipeline) -> None:  # type: ignore[no-untyped-def]
    bootstrap = pipeline.infrastructure.kafka_bootstrap_servers
    source_topic = pipeline.namespace.topic("articles.ingested")
    url = canonicalize_url(f"https://news.example/{pipeline.namespace.name}/dlq/replay")
    event = ingested(url)
    # As if enrich had given up on it while the store was down.
    failure = {
        "x-dlq-reason": "ServerSelectionTimeoutError: store unreachable",
        "x-dlq-error-type": "ServerSelectionTimeoutError",
        "x-dlq-service": "enrich",
        "x-dlq-attempts": "5",
        "x-dlq-original-topic": source_topic,
        "x-dlq-original-partition": "0",
        "x-dlq-original-offset": "0",
        "x-dlq-original-timestamp": "1767225600000",
        "x-dlq-failed-at": "2026-01-01T00:00:01Z",
    }
    await produce_raw(
        bootstrap,
        pipeline.namespace.topic("enrich.dlq"),
        event.value,
        key=event.key,
        headers=[*event.headers, *((name, value.encode()) for name, value in failure.items())],
    )
    [letter] = await eventually(lambda: listed(pipeline, event.meta.id), what="the dead letter")
    where = f"{letter['partition']}:{letter['offset']}"
    coordinates = f"{letter['topic']}:{where}"
    assert letter["replay"] == "pending"
    assert letter["original_topic"] == source_topic
    assert letter["value_size"] == len(event.value)

    dry = await newswire(pipeline, "replay", "enrich", "--all", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert f"would replay {where} -> {source_topic}" in dry.stdout
    assert "dry run, would replay" in dry.stdout

    first = await newswire(pipeline, "replay", "enrich", "--all")
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"replayed {where} -> {source_topic}" in first.stdout

    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:

        async def readable() -> bool:
            return (await client.get(f"/v1/articles/{article_id(url)}")).status_code == 200

        await eventually(readable, what="the replayed article to be served")

    second = await newswire(pipeline, "replay", "enrich", "--all")
    assert second.returncode == 0, second.stdout + second.stderr
    assert where not in replayed_offsets(second.stdout)
    if replayed_offsets(first.stdout) == [where]:
        assert "replayed 0, skipped 0" in second.stdout, second.stdout

    # Sent exactly once, by the first real replay: the dry run and the second sent nothing.
    [replayed] = [
        r for r in await read_all(bootstrap, source_topic) if header(r, "ce_id") == event.meta.id
    ]
    assert (replayed.key, replayed.value) == (event.key, event.value)
    assert header(replayed, "x-dlq-replayed-from") == coordinates
    names = [name for name, _ in replayed.headers]
    assert [n for n in names if n.startswith("x-dlq-")] == ["x-dlq-replayed-from"]
    assert [h for h in replayed.headers if not h[0].startswith("x-dlq-")] == event.headers

    [after] = await listed(pipeline, event.meta.id)
    assert (after["replay"], after["replayed"]) == ("replayed", True)


async def test_list_shows_a_poison_message_and_its_replay_dead_letters_it_again(
    pipeline,
) -> None:  # type: ignore[no-untyped-def]
    bootstrap = pipeline.infrastructure.kafka_bootstrap_servers
    source_topic = pipeline.namespace.topic("articles.ingested")
    url = canonicalize_url(f"https://news.example/{pipeline.namespace.name}/dlq/poison")
    valid = ingested(url)
    await produce_raw(bootstrap, source_topic, b'{"id": 42}', key=valid.key, headers=valid.headers)
    await read_topic(
        bootstrap,
        pipeline.namespace.topic("enrich.dlq"),
        until=lambda records: any(header(r, "ce_id") == valid.meta.id for r in records),
    )
    [letter] = await listed(pipeline, valid.meta.id)
    where = f"{letter['partition']}:{letter['offset']}"
    assert letter["error_type"] == "InvalidEventError"
    assert letter["key"] == valid.key.decode()
    assert letter["attempts"] == 1

    result = await newswire(pipeline, "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    enrich_topic = pipeline.namespace.topic("enrich.dlq")
    assert any(line.startswith(f"{enrich_topic}: ") for line in lines), result.stdout
    assert "gateway.dlq" not in result.stdout, "the gateway consumes nothing to dead-letter"
    [line] = [
        line for line in lines if line.startswith(f"  {where}  ") and valid.key.decode() in line
    ]
    assert f"from {source_topic} " in line
    assert "InvalidEventError" in line
    assert "  enrich  attempts=1  " in line
    assert "not replayed" in line

    limited = await newswire(pipeline, "list", "enrich", "--limit", "1")
    assert limited.returncode == 0, limited.stderr
    assert len([x for x in limited.stdout.splitlines() if x.startswith("  ")]) == 1

    replay = await newswire(pipeline, "replay", "enrich", "--offset", where, "--offset", "0:999999")
    assert replay.returncode == 1, "the offset that does not exist is skipped"
    assert f"replayed {where} -> {source_topic}" in replay.stdout
    assert "skipped 0:999999: no such offset in the topic" in replay.stdout
    assert "replayed 1, skipped 1" in replay.stdout

    async def dead_again() -> list[dict[str, Any]]:
        found = await listed(pipeline, valid.meta.id)
        return found if len(found) == 2 else []

    original, again = await eventually(dead_again, what="the replayed poison to be dead-lettered")
    assert original["offset"] == letter["offset"]
    assert original["replay"] == "replayed", "an --offset replay is remembered"
    assert again["replay"] == "pending"
    assert again["error_type"] == "InvalidEventError"
