"""Relate's cost per article with N articles stored, in a process of its own.

    <python> bench/relate_cost.py SIZE ENRICHED.jsonl

Run by path with any commit's interpreter (bench.relations runs the current code's and the
baseline commit's, from its git worktree, one after the other at each size), so it imports
nothing but what every relate since the domain/ layout has. The corpus is generated from the
dev articles' features: each generated article takes the terms and entities of one dev
article, a random MinHash (nothing is a false near-copy) and a time at a steady PER_DAY a
day. It is loaded without relating (stories found by key only), taken out of the
garbage collector's full passes as the service does after its start-up replay, then TIMED
new articles at the end of the timeline are related and timed one by one. Prints JSON.
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
from newswire_contracts import ArticleEnriched
from newswire_relate.domain.features import Features, features_of
from newswire_relate.domain.relator import Relator
from newswire_relate.index_reader import settle_index

PER_DAY = 3_000
_ORDERED_BY_INGESTION = "ingested" in {f.name for f in fields(Features)}
TIMED = 500


def generated(
    templates: list[Features], count: int, start: float, rng: random.Random
) -> list[Features]:
    step = 86_400 / PER_DAY
    out = []
    for n in range(count):
        template = templates[rng.randrange(len(templates))]
        signature = np.frombuffer(rng.randbytes(4 * len(template.signature)), dtype=np.uint32)
        at = start + n * step
        # Taken in as published (the story pass's order); the baseline's Features has no field.
        taken = {"ingested": at} if _ORDERED_BY_INGESTION else {}
        out.append(replace(template, id=f"{n:032x}", time=at, signature=signature, **taken))
    return out


def resident_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(size: int, templates: list[Features]) -> dict[str, float]:
    rng = random.Random(size)
    relator = Relator()
    gc.disable()  # a million small objects: the cyclic collector would dominate loading
    started = time.perf_counter()
    for features in generated(templates, size, 0.0, rng):
        relator.load(features)
    loaded = time.perf_counter() - started
    settle_index()
    gc.enable()
    tail = generated(templates, TIMED, size * 86_400 / PER_DAY, rng)
    latencies = []
    for n, features in enumerate(tail):
        features = replace(features, id=f"new{n:029x}")
        began = time.perf_counter()
        relator.add_features(features)
        latencies.append(time.perf_counter() - began)
    latencies.sort()
    return {
        "load_seconds": loaded,
        "mean_ms": 1000 * statistics.mean(latencies),
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "rss_mb": resident_mb(),
    }


def main() -> None:
    size, corpus = int(sys.argv[1]), Path(sys.argv[2])
    articles = [ArticleEnriched.model_validate_json(x) for x in corpus.read_text().splitlines()]
    print(json.dumps(measure(size, [features_of(a) for a in articles])))


if __name__ == "__main__":
    main()
