"""The article listing's queries (GET /v1/articles) against the local store, by corpus size.

Documents are the dev corpus's enriched articles as relate stores them (``article_document``:
with ``sort_time``, ``entity_names`` and ``search_terms``), copied with new ids and times to
500 and 2,000 documents in a fresh database of the local store, with the listing indexes
created as the gateway creates them. Each query (newest first; by source; by entity; by one
word; by two words) runs 5 times through the gateway's ArticleReader; the median is reported.

The store here is FerretDB 1.24 on SQLite, which answers only a lone ``_id`` equality from an
index and scans for these queries: the figures grow with the corpus. On MongoDB each query is
served by one of LISTING_INDEXES; that is the deployment the design targets.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from newswire_contracts.readmodel import ARTICLES_COLLECTION, article_document
from newswire_gateway.adapters.articles import ArticleQuery, ArticleReader
from pymongo import AsyncMongoClient
from tqdm import tqdm

from . import corpora
from .stack import infrastructure

SIZES = (500, 2_000)
REPEATS = 5
STEPS = len(SIZES)


async def measure(progress: tqdm[Any]) -> dict[str, Any]:
    articles = corpora.load("news-cluster").articles
    results: dict[str, Any] = {}
    async with infrastructure("search") as bench:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            bench.settings.mongodb_url, tz_aware=True
        )
        try:
            database = client[bench.database]
            reader = ArticleReader(database)
            await reader.create_indexes()
            sample = articles[0]
            queries = {
                "newest first": ArticleQuery(),
                "by source": ArticleQuery(source=sample.source),
                "by entity": ArticleQuery(
                    entity=sample.entities[0].name if sample.entities else "Russia"
                ),
                "one word": ArticleQuery(terms=("missile",)),
                "two words": ArticleQuery(terms=("north", "korea")),
            }
            stored = 0
            start = datetime(2026, 1, 1, tzinfo=UTC)
            for size in SIZES:
                batch = []
                while stored < size:
                    template = articles[stored % len(articles)]
                    document = article_document(template)
                    document["_id"] = f"{stored:032x}"
                    document["sort_time"] = start + timedelta(minutes=stored)
                    batch.append(document)
                    stored += 1
                    if len(batch) == 500:
                        await database[ARTICLES_COLLECTION].insert_many(batch)
                        batch = []
                if batch:
                    await database[ARTICLES_COLLECTION].insert_many(batch)
                timings = {}
                for name, query in queries.items():
                    samples = []
                    for _ in range(REPEATS):
                        began = time.perf_counter()
                        await reader.list(query, 21, None)
                        samples.append(time.perf_counter() - began)
                    timings[name] = 1000 * statistics.median(samples)
                results[str(size)] = timings
                progress.update(1)
        finally:
            await client.close()
    return results


def run(progress: tqdm[Any]) -> tuple[dict[str, Any], str]:
    figures = asyncio.run(measure(progress))
    names = list(next(iter(figures.values())))
    rows = [
        f"| {name} | " + " | ".join(f"{figures[str(s)][name]:.1f}" for s in SIZES) + " |"
        for name in names
    ]
    table = "\n".join(
        [
            "## Listing and search (store queries)",
            "",
            "Median ms of one page (21 documents) through the gateway's ArticleReader, on the local store "
            "(**FerretDB 1.24**, which scans for these filters; MongoDB serves each from an index).",
            "",
            "| query | " + " | ".join(f"{s:,} docs" for s in SIZES) + " |",
            "|---|" + "---:|" * len(SIZES),
            *rows,
            "",
        ]
    )
    return {"median_ms": figures, "store": "FerretDB 1.24 (SQLite)"}, table
