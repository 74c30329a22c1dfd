"""A malformed message on each consumed topic goes to that consumer's dead-letter topic,
with the reason, and the consumer carries on with the next message. Real broker and store."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from newswire_contracts import (
    ArticleEnriched,
    ArticleIngested,
    IngestArticle,
    article_id,
    canonicalize_url,
    cloudevents,
)

from tests.support import eventually, header, produce_raw, read_topic

pytestmark = pytest.mark.e2e

NOW = datetime.now(UTC)


def follow_up(topic: str, url: str) -> cloudevents.EncodedEvent:
    """A valid event for ``topic`` about the article at ``url``."""
    text = (
        "Ministers met in Brussels on Tuesday to discuss the new sanctions package against Russia."
    )
    identifier = article_id(url)
    if topic == "ingest.requests":
        event: IngestArticle | ArticleIngested | ArticleEnriched = IngestArticle(
            url=url, text=text, submitted_at=NOW
        )
    else:
        event = ArticleIngested(
            id=identifier,
            url=url,
            source="Test",
            title="Sanctions",
            text=text,
            ingested_at=NOW,
            content_hash="c" * 64,
        )
        if topic == "articles.enriched":
            event = ArticleEnriched(
                **event.model_dump(), language="en", word_count=15, enriched_at=NOW
            )
    return cloudevents.encode(event, source="/tests")


@pytest.mark.parametrize(
    ("topic", "dead_letter_topic", "poison", "reason"),
    [
        ("ingest.requests", "ingest.dlq", b"\x00\x9fnot json at all", "InvalidEventError"),
        ("articles.ingested", "enrich.dlq", b'{"id": 42}', "InvalidEventError"),
        ("articles.enriched", "relate.dlq", b"[]", "InvalidEventError"),
    ],
)
async def test_poison_is_dead_lettered_and_the_next_message_processed(
    pipeline,
    topic: str,
    dead_letter_topic: str,
    poison: bytes,
    reason: str,  # type: ignore[no-untyped-def]
) -> None:
    bootstrap = pipeline.infrastructure.kafka_bootstrap_servers
    url = canonicalize_url(f"https://news.example/{pipeline.namespace.name}/dlq/{topic}")
    valid = follow_up(topic, url)
    # Same key as the valid message: same partition, so the consumer must get past the
    # poison to reach it.
    headers = [(name, value) for name, value in valid.headers]
    await produce_raw(
        bootstrap, pipeline.namespace.topic(topic), poison, key=valid.key, headers=headers
    )
    await produce_raw(
        bootstrap,
        pipeline.namespace.topic(topic),
        valid.value,
        key=valid.key,
        headers=valid.headers,
    )

    letters = await read_topic(
        bootstrap,
        pipeline.namespace.topic(dead_letter_topic),
        until=lambda records: any(r.value == poison and r.key == valid.key for r in records),
    )
    # By key as well: other tests (the dlq CLI's) dead-letter the same bytes in this session.
    [letter] = [r for r in letters if r.value == poison and r.key == valid.key]
    assert letter.key == valid.key
    assert reason in (header(letter, "x-dlq-reason") or "")
    assert header(letter, "x-dlq-original-topic") == pipeline.namespace.topic(topic)
    assert header(letter, "x-dlq-attempts") == "1"
    assert header(letter, "ce_id") == valid.meta.id, "the original headers are kept"

    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:

        async def stored() -> bool:
            return (await client.get(f"/v1/articles/{article_id(url)}")).status_code == 200

        await eventually(stored, what="the message after the poison to be processed")


async def test_wrong_event_type_is_dead_lettered(pipeline) -> None:  # type: ignore[no-untyped-def]
    bootstrap = pipeline.infrastructure.kafka_bootstrap_servers
    url = canonicalize_url(f"https://news.example/{pipeline.namespace.name}/wrong-type")
    valid = follow_up("articles.ingested", url)
    headers = [
        (n, b"newswire.article.ingested.v9" if n == "ce_type" else v) for n, v in valid.headers
    ]
    await produce_raw(
        bootstrap,
        pipeline.namespace.topic("articles.ingested"),
        valid.value,
        key=valid.key,
        headers=headers,
    )
    letters = await read_topic(
        bootstrap,
        pipeline.namespace.topic("enrich.dlq"),
        until=lambda records: any(header(r, "ce_id") == valid.meta.id for r in records),
    )
    [letter] = [r for r in letters if header(r, "ce_id") == valid.meta.id]
    assert "expected event type 'newswire.article.ingested.v1'" in (
        header(letter, "x-dlq-reason") or ""
    )
