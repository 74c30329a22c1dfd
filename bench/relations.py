"""Relate: quality on the labelled dev corpus, and cost per article as the corpus grows.

Quality: the 383 dev articles (69 labelled events) are enriched as the service does, then
fed to the relation engine in time order. Precision@5 of the related lists (a related
article about the same event counts as right; articles whose event has no other article are
left out) and B-cubed F1 of the stories against the events. The story threshold is swept
around its tuned value to show how the score moves.

Scale: relate's per-article work (candidate lookup, scoring, graph update) with 10k, 100k
and 1M articles already stored. The large corpora are generated from the dev articles'
features: each generated article takes the terms and entities of one dev article, a random
MinHash (so nothing is a false near-copy) and a timestamp at a steady 3,000 articles a day,
so the corpora cover 3.3, 33 and 333 days of news, as a growing archive does. They are
loaded into the index without being related (loading 1M by relating each would take hours);
then 500 new articles at the end of the timeline are related and timed. The cost depends on
how many articles share keys inside the 14-day window, which the steady daily volume keeps
constant: that is the claim under test. After loading, the index is taken out of the garbage
collector's full passes (``settle_index``), as the service does once its start-up replay has
caught up: otherwise every full pass walks the whole index, about a second at 1M articles.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import random
import statistics
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from newswire_contracts import ArticleEnriched, ArticleIngested, article_id, canonicalize_url
from newswire_devstack.processes import resident_bytes
from newswire_relate.domain.features import Features, features_of
from newswire_relate.domain.relator import Relator
from newswire_relate.domain.scoring import Weights
from newswire_relate.domain.stories import StoryParams
from newswire_relate.index_reader import settle_index
from tqdm import tqdm

ROOT = Path(__file__).parents[1]
CORPUS = ROOT / "data" / "news-cluster" / "data"
CACHE = ROOT / ".local" / "cache"
SIZES = (10_000, 100_000, 1_000_000)
PER_DAY = 3_000
TIMED = 500
STEPS = 2 + len(SIZES)


def labelled() -> tuple[list[ArticleEnriched], dict[str, int]]:
    """The dev corpus, enriched as the service enriches it (cached by code and corpus)."""
    raws = [json.loads(p.read_text()) for p in sorted(CORPUS.glob("*.json"))]
    raws = [r for r in raws if (r.get("text") or "").strip()]
    digest = hashlib.sha256()
    for path in sorted((ROOT / "services" / "enrich" / "src").rglob("*.py")):
        digest.update(path.read_bytes())
    digest.update(json.dumps([r["url"] for r in raws]).encode())
    cache = CACHE / f"dev-enriched-{digest.hexdigest()[:16]}.jsonl"
    if not cache.exists():
        from newswire_enrich.adapters.language import LanguageIdentifier
        from newswire_enrich.adapters.nlp import Pipelines
        from newswire_enrich.config import EnrichSettings
        from newswire_enrich.domain.enrichment import Enricher

        enricher = Enricher(Pipelines(EnrichSettings().enrich_spacy_model), LanguageIdentifier())
        articles = []
        for raw in raws:
            url = canonicalize_url(raw["url"])
            published = (
                datetime.fromisoformat(raw["date_publish"]).replace(tzinfo=UTC)
                if raw.get("date_publish")
                else None
            )
            articles.append(
                ArticleIngested(
                    id=article_id(url),
                    url=url,
                    source=raw.get("source_domain") or "unknown",
                    title=(raw.get("title") or "")[:1000],
                    text=raw["text"],
                    published_at=published,
                    ingested_at=datetime.now(UTC),
                    content_hash="0" * 64,
                )
            )
        enriched = enricher.enrich(articles, now=datetime.now(UTC))
        CACHE.mkdir(parents=True, exist_ok=True)
        cache.write_text("\n".join(a.model_dump_json() for a in enriched))
    enriched = [
        ArticleEnriched.model_validate_json(line) for line in cache.read_text().splitlines()
    ]
    labels = {article_id(canonicalize_url(r["url"])): r["newsCluster"]["EventId"] for r in raws}
    return enriched, labels


def quality(
    articles: list[ArticleEnriched],
    labels: dict[str, int],
    weights: Weights,
    stories: StoryParams | None = None,
) -> dict[str, float]:
    relator = Relator(weights, stories=stories)
    for article in sorted(articles, key=lambda a: (a.published_at or a.ingested_at, a.id)):
        relator.add(article)
    sizes: dict[int, int] = defaultdict(int)
    for article in articles:
        sizes[labels[article.id]] += 1
    precisions = []
    for article in articles:
        others = sizes[labels[article.id]] - 1
        if others:
            top = relator.related(article.id, 5)
            precisions.append(sum(labels[r.id] == labels[article.id] for r in top) / min(5, others))
    story = {a.id: relator.story_id(a.id) for a in articles}
    by_story: dict[str, list[str]] = defaultdict(list)
    by_label: dict[int, list[str]] = defaultdict(list)
    for a in articles:
        by_story[story[a.id]].append(a.id)
        by_label[labels[a.id]].append(a.id)
    precision = statistics.mean(
        sum(labels[y] == labels[x] for y in by_story[story[x]]) / len(by_story[story[x]])
        for x in story
    )
    recall = statistics.mean(
        sum(story[y] == story[x] for y in by_label[labels[x]]) / len(by_label[labels[x]])
        for x in story
    )
    return {
        "p_at_5": statistics.mean(precisions),
        "bcubed_precision": precision,
        "bcubed_recall": recall,
        "bcubed_f1": 2 * precision * recall / (precision + recall),
        "stories": len(by_story),
        "events": len(by_label),
    }


def generated(
    templates: list[Features], count: int, start: float, rng: random.Random
) -> list[Features]:
    """``count`` articles shaped like the dev articles, at PER_DAY a day from ``start``."""
    step = 86_400 / PER_DAY
    out = []
    for n in range(count):
        template = templates[rng.randrange(len(templates))]
        signature = np.frombuffer(rng.randbytes(4 * len(template.signature)), dtype=np.uint32)
        out.append(replace(template, id=f"{n:032x}", time=start + n * step, signature=signature))
    return out


def scale(templates: list[Features], progress: tqdm[Any]) -> dict[str, Any]:
    results = {}
    for size in SIZES:
        rng = random.Random(size)
        relator = Relator()
        gc.disable()  # a million small objects: the cyclic collector would dominate loading
        started = time.perf_counter()
        for features in generated(templates, size, 0.0, rng):
            relator.load(features)
        loaded = time.perf_counter() - started
        settle_index()  # as the service does once its start-up replay has caught up
        gc.enable()
        tail = generated(templates, TIMED, size * 86_400 / PER_DAY, rng)
        latencies = []
        for n, features in enumerate(tail):
            features = replace(features, id=f"new{n:029x}")
            began = time.perf_counter()
            relator.add_features(features)
            latencies.append(time.perf_counter() - began)
        latencies.sort()
        results[str(size)] = {
            "load_seconds": loaded,
            "mean_ms": 1000 * statistics.mean(latencies),
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
            # This process's resident memory now (ru_maxrss would be the peak of every part
            # run before this one in the same make bench).
            "rss_mb": resident_bytes(os.getpid()) / 2**20,
        }
        del relator
        gc.unfreeze()
        gc.collect()
        progress.update(1)
    results["ratio_1m_to_10k"] = (
        results[str(SIZES[-1])]["mean_ms"] / results[str(SIZES[0])]["mean_ms"]
    )
    return results


def run(progress: tqdm[Any]) -> tuple[dict[str, Any], str]:
    articles, labels = labelled()
    progress.update(1)
    tuned = Weights()
    main = quality(articles, labels, tuned)
    sweep = {
        f"{m:.3f}": quality(articles, labels, tuned, replace(StoryParams(), join_min=m))
        for m in (0.125, 0.15, 0.175, 0.2, 0.225, 0.25)
    }
    progress.update(1)
    size = scale([features_of(a) for a in articles], progress)
    figures = {
        "quality": main,
        "join_min_sweep": sweep,
        "weights": tuned.__dict__,
        "scale": size,
        "per_day": PER_DAY,
    }
    rows = [
        f"| {m} | {q['bcubed_f1']:.3f} | {q['bcubed_precision']:.3f} | {q['bcubed_recall']:.3f} | {q['stories']} |"
        for m, q in sweep.items()
    ]
    scale_rows = [
        f"| {int(n):,} | {r['mean_ms']:.2f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['load_seconds']:.0f} | {r['rss_mb']:.0f} |"
        for n, r in size.items()
        if n.isdigit()
    ]
    table = "\n".join(
        [
            "## Relate",
            "",
            f"Quality on the dev corpus ({len(articles)} articles, {main['events']} labelled events): "
            f"related-list **P@5 {main['p_at_5']:.3f}**, stories **B-cubed F1 {main['bcubed_f1']:.3f}** "
            f"(precision {main['bcubed_precision']:.3f}, recall {main['bcubed_recall']:.3f}, {main['stories']} stories). "
            "Tuned on this same corpus: a development score.",
            "",
            f"Story join threshold sweep (tuned value {StoryParams().join_min}):",
            "",
            "| join_min | B-cubed F1 | precision | recall | stories |",
            "|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Cost per article with N articles stored ({PER_DAY:,} a day; in-process engine, no store I/O):",
            "",
            "| stored | mean ms | p50 ms | p99 ms | load s | RSS MB after |",
            "|---:|---:|---:|---:|---:|---:|",
            *scale_rows,
            "",
            f"Ratio 1M / 10k (mean): **{size['ratio_1m_to_10k']:.2f}** (goal ≤ 2).",
            "",
        ]
    )
    return figures, table
