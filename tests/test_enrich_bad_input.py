"""Bad input to enrich, through Kafka: every article comes out, flagged, none is lost, and
the consumer keeps going. Real broker, real store, services as processes."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import httpx
import pytest
from newswire_contracts import ArticleIngested, article_id, canonicalize_url, cloudevents

from tests.support import eventually, produce_raw

pytestmark = pytest.mark.e2e

PROSE = (
    "The European Union failed for a second day to approve a new package of sanctions against Russia, "
    "diplomats said on Wednesday, as Slovakia held out for guarantees on gas prices. "
)
CASES = {
    "empty": ("", {"no_prose"}),
    "gigantic": ((PROSE * 1200)[:199_000], {"text_cut_for_analysis"}),
    "binary": (
        bytes(random.Random(5).randrange(256) for _ in range(5000)).decode("latin-1"),
        set(),
    ),
    "markup-only": (
        "<div><span class='x'></span><br/></div>" * 200,
        {"markup_removed", "no_prose"},
    ),
    "mixed": (
        PROSE * 3
        + "Die Europäische Union konnte sich erneut nicht auf neue Sanktionen einigen. " * 2,
        set(),
    ),
    "short": ("Slovakia blocked the sanctions.", {"too_short"}),
}


async def test_every_awkward_text_is_enriched_and_flagged(pipeline) -> None:  # type: ignore[no-untyped-def]
    ids = {}
    for name, (text, _) in CASES.items():
        url = canonicalize_url(f"https://news.example/{pipeline.namespace.name}/bad-input/{name}")
        article = ArticleIngested(
            id=article_id(url),
            url=url,
            source="Test",
            title="",
            text=text,
            ingested_at=datetime.now(UTC),
            content_hash="b" * 64,
        )
        encoded = cloudevents.encode(article, source="/tests")
        await produce_raw(
            pipeline.infrastructure.kafka_bootstrap_servers,
            pipeline.namespace.topic("articles.ingested"),
            encoded.value,
            key=encoded.key,
            headers=encoded.headers,
        )
        ids[name] = article.id

    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:
        for name, (text, flags) in CASES.items():

            async def served(identifier: str = ids[name]) -> dict | None:  # type: ignore[type-arg]
                response = await client.get(f"/v1/articles/{identifier}")
                return response.json() if response.status_code == 200 else None

            article = await eventually(served, timeout=90, what=f"the {name} article")
            assert flags <= set(article["flags"]), (name, article["flags"])
            assert len(article["text"]) == len(text)
            if "no_prose" in flags:
                assert article["entities"] == []
                assert "summary" in article["missing_enrichments"]

    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:
        gigantic = (await client.get(f"/v1/articles/{ids['gigantic']}")).json()
        mixed = (await client.get(f"/v1/articles/{ids['mixed']}")).json()
    assert {"European Union", "Russia", "Slovakia"} <= {e["name"] for e in gigantic["entities"]}
    assert gigantic["word_count"] > 25_000
    assert mixed["language"] == "en"
