"""Enrich's throughput against its spaCy pipeline alone, and when scaled out.

The dev corpus (383 articles) is published to ``articles.ingested`` in a fresh namespace;
then one enrich process (and, in a second namespace, two in one consumer group) consumes
the backlog, enriches and publishes ``articles.enriched``. The service's rate is measured
from the first to the last output's timestamp, so model loading and group joining do not
count. In the same run, the same spaCy pipeline (same model, same components, same texts as
enrich analyses them, same batch size) runs alone in this process: the ratio of the two
rates is what consuming, language detection, entity merging, keywords, summaries,
serialisation and publishing cost on top of spaCy.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from newswire_contracts import ArticleIngested, article_id, canonicalize_url, topics
from newswire_enrich.adapters.nlp import Pipelines
from newswire_enrich.config import EnrichSettings
from newswire_enrich.domain.enrichment import prepare_text
from newswire_platform.kafka import ensure_topics
from tqdm import tqdm

from .stack import BenchStack, infrastructure, process_cpu_seconds, publish_all, service_stack

CORPUS = Path(__file__).parents[1] / "data" / "news-cluster" / "data"
STEPS = 4


def corpus() -> list[ArticleIngested]:
    articles = []
    for path in sorted(CORPUS.glob("*.json")):
        raw = json.loads(path.read_text())
        if not (raw.get("text") or "").strip():
            continue
        url = canonicalize_url(raw["url"])
        articles.append(
            ArticleIngested(
                id=article_id(url),
                url=url,
                source=raw.get("source_domain") or "unknown",
                title=(raw.get("title") or "")[:1000],
                text=raw["text"],
                ingested_at=datetime.now(UTC),
                content_hash="0" * 64,
            )
        )
    return articles


def spacy_alone(articles: list[ArticleIngested], settings: EnrichSettings) -> float:
    """Articles per second through the entity pipeline alone, in this process."""
    nlp = Pipelines(settings.enrich_spacy_model).entities
    texts = []
    for article in articles:
        body, _ = prepare_text(article.text, settings.enrich_max_chars)
        texts.append(f"{article.title}\n\n{body}")
    list(nlp.pipe(texts[:16], batch_size=16))  # warm up
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=settings.enrich_batch_size):
        pass
    return len(texts) / (time.perf_counter() - started)


async def publish(bench: BenchStack, articles: list[ArticleIngested]) -> None:
    settings = EnrichSettings(
        kafka_bootstrap_servers=bench.settings.kafka_bootstrap_servers, topic_prefix=bench.prefix
    )
    await ensure_topics(
        settings, [topics.ARTICLES_INGESTED, topics.ARTICLES_ENRICHED, topics.ENRICH_DLQ]
    )
    await publish_all(bench, articles)


async def output_times(bench: BenchStack, count: int, timeout: float = 900) -> list[int]:
    """Timestamps (ms) of the first ``count`` enriched articles."""
    consumer = AIOKafkaConsumer(
        bench.topic(topics.ARTICLES_ENRICHED),
        bootstrap_servers=bench.settings.kafka_bootstrap_servers,
        group_id=f"{bench.prefix}reader",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    stamps: list[int] = []
    deadline = time.monotonic() + timeout
    try:
        while len(stamps) < count and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                stamps.extend(r.timestamp for r in records)
    finally:
        await consumer.stop()
    if len(stamps) < count:
        raise RuntimeError(f"only {len(stamps)} of {count} articles enriched in {timeout:.0f}s")
    return sorted(stamps)


async def service_run(articles: list[ArticleIngested], instances: int) -> dict[str, float]:
    async with infrastructure(f"enrich{instances}") as bench:
        await publish(bench, articles)
        stack = service_stack(bench)
        await stack.up(["enrich"], echo=False)
        pids = [stack.processes.running_pid("enrich", "newswire_enrich")]
        for n in range(2, instances + 1):
            pids.append(
                await stack.start_instance(
                    "enrich", f"enrich-{n}", port=stack.settings.enrich_port + n
                )
            )
        cpu_before = sum(process_cpu_seconds(pid) for pid in pids if pid)
        try:
            stamps = await output_times(bench, len(articles))
            cpu = sum(process_cpu_seconds(pid) for pid in pids if pid) - cpu_before
        finally:
            for n in range(2, instances + 1):
                stack.stop_instance("enrich", f"enrich-{n}")
            stack.down(["enrich"], echo=False)
    seconds = (stamps[-1] - stamps[0]) / 1000
    return {
        "articles_per_second": (len(stamps) - 1) / seconds,
        "cpu_seconds_per_article": cpu / len(stamps),
        "median_gap_ms": statistics.median(b - a for a, b in itertools.pairwise(stamps)),
    }


def run(progress: tqdm[Any]) -> tuple[dict[str, Any], str]:
    articles = corpus()
    settings = EnrichSettings()
    alone = spacy_alone(articles, settings)
    progress.update(1)
    one = asyncio.run(service_run(articles, 1))
    progress.update(1)
    two = asyncio.run(service_run(articles, 2))
    progress.update(1)
    figures = {
        "articles": len(articles),
        "model": settings.enrich_spacy_model,
        "batch_size": settings.enrich_batch_size,
        "spacy_alone_articles_per_second": alone,
        "enrich_1_instance_articles_per_second": one["articles_per_second"],
        "enrich_1_instance_articles_per_cpu_second": 1 / one["cpu_seconds_per_article"],
        "enrich_2_instances_articles_per_second": two["articles_per_second"],
        "ratio_enrich_to_spacy": one["articles_per_second"] / alone,
        "scale_out_2_to_1": two["articles_per_second"] / one["articles_per_second"],
        "goal_ratio": 0.8,
    }
    progress.update(1)
    table = "\n".join(
        [
            "## Enrich throughput",
            "",
            f"{len(articles)} dev-corpus articles (mean 3,600 characters), model {settings.enrich_spacy_model}, "
            f"batches of {settings.enrich_batch_size}; Kafka on the same two cores.",
            "",
            "| what | articles/s |",
            "|---|---:|",
            f"| spaCy pipeline alone (tok2vec, senter, ner), one process | {alone:.1f} |",
            f"| enrich service, 1 instance (consume, enrich, publish) | {one['articles_per_second']:.1f} |",
            f"| enrich service, 1 instance, per CPU-second | {1 / one['cpu_seconds_per_article']:.1f} |",
            f"| enrich service, 2 instances in one group | {two['articles_per_second']:.1f} |",
            "",
            f"Ratio enrich / spaCy alone: **{figures['ratio_enrich_to_spacy']:.2f}** (goal ≥ 0.8). "
            f"Two instances / one: **{figures['scale_out_2_to_1']:.2f}**.",
            "",
        ]
    )
    return figures, table
