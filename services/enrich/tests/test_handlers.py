"""Enrich's batch handling, without a broker or models: one bad article costs only itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from newswire_contracts import ArticleEnriched, ArticleIngested, article_id, cloudevents
from newswire_enrich.handlers import EnrichDependencies, on_articles_ingested
from newswire_platform import DeadLetterPolicy

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, tzinfo=UTC)


class Fakes:
    """The enricher (failing on one article), the publisher and the dead-letter producer."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.dead: list[tuple[int, str]] = []

    def enrich(self, articles: list[ArticleIngested], *, now: datetime) -> list[ArticleEnriched]:
        if any(a.title == "bad" for a in articles):
            raise RuntimeError("model fell over")
        return [ArticleEnriched(**a.model_dump(), enriched_at=now) for a in articles]

    async def publish(self, event: ArticleEnriched, **_: Any) -> None:
        self.published.append(event.title)

    async def send(
        self, topic: str, record: ConsumerRecord[Any, Any], headers: Any, *, prefixed: bool = True
    ) -> None:
        self.dead.append((record.offset, dict(headers)["x-dlq-error-type"].decode()))


def record(offset: int, title: str) -> ConsumerRecord[Any, Any]:
    url = f"https://news.example/enrich-handler/{offset}"
    event = ArticleIngested(
        id=article_id(url),
        url=url,
        source="S",
        title=title,
        text="Text.",
        ingested_at=NOW,
        content_hash="a" * 64,
    )
    encoded = cloudevents.encode(event, source="/test")
    value, headers = encoded.value, encoded.headers
    return ConsumerRecord("articles.ingested", 0, offset, 0, 0, None, value, None, 0, 0, headers)


async def test_the_batch_is_enriched_one_by_one_when_one_article_breaks_it() -> None:
    fakes = Fakes()
    deps = EnrichDependencies(fakes, fakes, DeadLetterPolicy("enrich", "enrich.dlq", fakes))  # type: ignore[arg-type]
    invalid = ConsumerRecord("articles.ingested", 0, 3, 0, 0, None, b"{", None, 0, 0, [])
    await on_articles_ingested(
        [record(0, "one"), record(1, "bad"), record(2, "two"), invalid], deps
    )
    assert fakes.published == ["one", "two"]
    assert fakes.dead == [(3, "InvalidEventError"), (1, "PermanentError")]
