"""Relate's batch handling, without a broker: refresh requests coalesced, what an article
changed written again, dead letters last."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from newswire_contracts import ArticleEnriched, EventMeta, article_id, cloudevents
from newswire_platform import DeadLetterPolicy, Decoded
from newswire_relate.adapters.store import SaveResult
from newswire_relate.domain.relator import Relator
from newswire_relate.handlers import RelateDependencies, coalesce, on_batch
from newswire_relate.refresh import RelateRefresh

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def request(kind: str, n: int, offset: int) -> Decoded[RelateRefresh]:
    record: ConsumerRecord[Any, Any] = ConsumerRecord(
        "relate.refresh", 0, offset, 0, 0, None, b"", None, 0, 0, []
    )
    meta = EventMeta(
        id=f"event-{offset}", source="/relate", type=RelateRefresh.event_type, time=NOW
    )
    return Decoded(RelateRefresh(kind=kind, id=f"{n:032x}", requested_at=NOW), meta, record)  # type: ignore[arg-type]


def test_each_article_and_story_is_refreshed_once_in_order_of_first_request() -> None:
    batch = [
        request("article", 1, 0),
        request("article", 2, 1),
        request("article", 1, 2),
        request("story", 1, 3),
        request("article", 2, 4),
        request("story", 1, 5),
    ]
    kept = coalesce(batch)
    assert [(r.event.kind, r.event.id[-1], r.record.offset) for r in kept] == [
        ("article", "1", 0),
        ("article", "2", 1),
        ("story", "1", 3),
    ]


class Recorder:
    """Stands in for the reader, the stores, the publisher and the dead-letter producer."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def catch_up(self) -> None:
        self.calls.append(("catch_up", None))

    def indexed_at_start(self, partition: int, offset: int) -> bool:
        return False

    async def save(self, item: Any, *_: Any, now: datetime | None = None) -> Any:
        self.calls.append(("save", item.id))
        return SaveResult("created", item.version) if hasattr(item, "version") else True

    async def update_relations(self, article_id: str, *_: Any, now: datetime) -> int:
        self.calls.append(("update_relations", article_id))
        return 1

    async def publish(self, event: Any, *, event_id: str) -> None:
        self.calls.append(
            ("publish", (type(event).__name__, getattr(event, "kind", None), event.id))
        )

    async def send(self, topic: str, record: Any, headers: Any) -> None:
        self.calls.append(("dead_letter", record.offset))


def enriched(n: int, hours: int) -> ArticleEnriched:
    url = f"https://news.example/handlers/{n}"
    return ArticleEnriched(
        id=article_id(url),
        url=url,
        source="news.example",
        title="Harbour crane delivered to Rotterdam",
        text="The port of Rotterdam took delivery of a new harbour crane on Monday morning. " * 5,
        published_at=NOW + timedelta(hours=hours),
        ingested_at=NOW,
        content_hash=f"{n:064x}",
        version=1,
        enriched_at=NOW,
        word_count=70,
    )


def record(topic: str, offset: int, event: Any) -> ConsumerRecord[Any, Any]:
    encoded = cloudevents.encode(event, source="/test", event_id=f"event-{offset}")
    return ConsumerRecord(topic, 0, offset, 0, 0, None, encoded.value, None, 0, 0, encoded.headers)


async def test_a_batch_stores_articles_asks_for_refreshes_and_dead_letters_last() -> None:
    older, newer = enriched(1, 0), enriched(2, 1)
    relator = Relator()
    relator.add(older)
    relator.add(newer)
    fake = Recorder()
    deps = RelateDependencies(
        relator=relator,
        reader=fake,  # type: ignore[arg-type]
        articles=fake,  # type: ignore[arg-type]
        stories=fake,  # type: ignore[arg-type]
        publisher=fake,  # type: ignore[arg-type]
        dead_letters=DeadLetterPolicy("relate", "relate.dlq", fake),  # type: ignore[arg-type]
        enriched_topic="articles.enriched",
        clock=lambda: NOW,
    )
    refresh = RelateRefresh(kind="article", id=older.id, requested_at=NOW)
    await on_batch(
        [
            record("articles.enriched", 0, newer),
            ConsumerRecord("articles.enriched", 0, 1, 0, 0, None, b"{", None, 0, 0, []),
            record("relate.refresh", 2, refresh),
            record("relate.refresh", 3, refresh),
        ],
        deps,
    )
    assert fake.calls == [
        ("catch_up", None),
        ("save", newer.id),
        ("publish", ("ArticleRelated", None, newer.id)),
        ("publish", ("RelateRefresh", "article", older.id)),
        ("publish", ("RelateRefresh", "story", older.id)),
        ("publish", ("RelateRefresh", "story", newer.id)),
        ("update_relations", older.id),
        ("publish", ("ArticleRelated", None, older.id)),
        ("dead_letter", 1),
    ]
