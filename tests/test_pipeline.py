"""End to end: articles posted to the gateway travel through Kafka and every service,
land in the store and are served back. Real broker, real store, services as processes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from newswire_contracts import article_id, canonicalize_url
from pymongo import AsyncMongoClient

from tests.support import caught_up, eventually, read_all

pytestmark = pytest.mark.e2e

REPO = Path(__file__).parents[1]
SEED = json.loads((REPO / "data" / "sample" / "seed" / "articles.json").read_text())
PAGE = REPO / "services" / "ingest" / "tests" / "fixtures" / "NineNews_2024_05_02.html.gz"


async def served(
    client: httpx.AsyncClient, identifier: str, *, timeout: float = 60.0
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await client.get(f"/v1/articles/{identifier}")
        return response.json() if response.status_code == 200 else None

    return await eventually(probe, timeout=timeout, what=f"article {identifier} to be served")


async def test_posted_article_is_served_with_its_enrichment(pipeline) -> None:  # type: ignore[no-untyped-def]
    seed = SEED[0]
    url = f"https://news.example/{pipeline.namespace.name}/lavrov-north-korea-visit"
    identifier = article_id(canonicalize_url(url))
    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:
        before = await client.get(f"/v1/articles/{identifier}")
        assert before.status_code == 404
        assert before.headers["content-type"] == "application/problem+json"

        body = {k: seed[k] for k in ("title", "text", "source", "published_at")} | {"url": url}
        response = await client.post("/v1/articles", json=body, headers=pipeline.auth)
        assert response.status_code == 202
        assert response.json() == {"id": identifier, "status": "accepted"}
        assert response.headers["location"] == f"/v1/articles/{identifier}"

        article = await served(client, identifier)
    assert article["url"] == url
    assert article["title"] == seed["title"]
    assert article["source"] == seed["source"]
    assert article["published_at"] == "2025-07-08T09:00:00Z"
    assert article["text"].startswith(
        "North Korea's official Korean Central News Agency said Lavrov"
    )
    assert article["language"] == "en"
    assert article["language_confidence"] > 0.9
    assert 300 < article["word_count"] < 1000
    assert article["reading_time_minutes"] == -(-article["word_count"] // 230)
    assert article["ingested_at"].endswith("Z")
    assert article["enriched_at"].endswith("Z")


async def test_posting_the_same_article_twice_leaves_one_document(pipeline) -> None:  # type: ignore[no-untyped-def]
    url = f"https://news.example/{pipeline.namespace.name}/eu-sanctions"
    variants = [
        url,
        url.replace("https://news.example", "HTTPS://NEWS.example:443")
        + "/?utm_source=newsletter#top",
    ]
    identifier = article_id(canonicalize_url(url))
    seed = SEED[3]
    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:
        for variant in variants:
            response = await client.post(
                "/v1/articles",
                json={"url": variant, "title": seed["title"], "text": seed["text"]},
                headers=pipeline.auth,
            )
            assert response.status_code == 202
            assert response.json()["id"] == identifier

        article = await served(client, identifier)

    # Ingest saw the second submission as a repeat of the first: no second publication.
    bootstrap = pipeline.infrastructure.kafka_bootstrap_servers
    await eventually(
        lambda: caught_up(
            bootstrap,
            f"{pipeline.namespace.topic_prefix}newswire-ingest",
            pipeline.namespace.topic("ingest.requests"),
        ),
        what="ingest to handle both submissions",
    )
    events = await read_all(bootstrap, pipeline.namespace.topic("articles.ingested"))
    assert [r.key for r in events if r.key == identifier.encode()] == [identifier.encode()]
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(pipeline.infrastructure.mongodb_url)
    try:
        database = mongo[pipeline.namespace.database]
        documents = await database["articles"].find({"url": canonicalize_url(url)}).to_list()
    finally:
        await mongo.close()
    assert [d["_id"] for d in documents] == [identifier]
    assert article["version"] == 1


async def test_html_submission_is_extracted(pipeline) -> None:  # type: ignore[no-untyped-def]
    url = f"https://www.9news.com.au/{pipeline.namespace.name}/epstein-documents"
    html = gzip.decompress(PAGE.read_bytes()).decode()
    identifier = article_id(canonicalize_url(url))
    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:
        response = await client.post(
            "/v1/articles", json={"url": url, "html": html}, headers=pipeline.auth
        )
        assert response.status_code == 202
        article = await served(client, identifier)
    assert article["title"].startswith("Nearly 3000 pages of Jeffrey Epstein documents released")
    assert article["text"].startswith(
        "For nearly two decades, journalists, police detectives, FBI agents"
    )
    assert article["authors"] == ["Associated Press"]
    assert article["language"] == "en"
