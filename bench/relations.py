"""Relate: story and related-list quality on the two dev corpora, cost per article as the
corpus grows, against the baseline commit's engine measured in the same run.

Quality (bench.corpora: ecbplus-dev, 35 topics of two same-kind events each, and
news-cluster), scored against the gold events:

- **Cross-validated** story B-cubed precision, recall and F1: a grid around the tuned
  defaults (BENCH_GRID: each parameter at its value and a step either way), run on both
  corpora, a setting chosen on the other topic folds of both (as bench.tune_stories chooses)
  and scored on the held-out topics (one canonical order). bench.tune_stories runs the full
  grid (about 15 minutes); its report is bench/results/tune-stories.json. The same for the story engine before this one
  (connected components of relations at or above a threshold, chosen the same way).
- **Orders**: the relate engine with its tuned defaults, fed each corpus in key order and in
  ``orders`` shuffled orders (in handler-sized batches, so late articles roll the pass back):
  B-cubed and P@5 for each, with mean and spread, and whether the stories are identical to
  key order's. And over ``orders`` canonical orders (another tie-break among equal times:
  ecbplus-dev has no times, so this is what the result can depend on).
- P@5 of the related lists: a related article about the same event counts as right; articles
  whose event has no other article are left out. The relation score's settings are learned
  by bench.tune_related (cross-validated P@5 in bench/results/tune-related.json).

Scale (bench/relate_cost.py, each size and engine in a process of its own, the current code
and the baseline commit's from its git worktree taking turns, ``relate_cost_repeats`` times up
to 100k, the least disturbed run kept): relate's per-article work with
10k, 100k and 1M articles stored, generated from news-cluster's features at 3,000 a day,
loaded without relating, then 500 new articles at the end of the timeline related and timed.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from newswire_relate.domain.relator import Relator
from newswire_relate.domain.stories import StoryParams
from tqdm import tqdm

from . import corpora, tune_stories
from .baseline import BaselineSettings, baseline_python

ROOT = Path(__file__).parents[1]
BATCH = 64  # relate's handler batch: stories are read (and placed) once per batch


class RelationsBenchSettings(BaselineSettings):
    relate_sizes: list[int] = [10_000, 100_000, 1_000_000]
    """Stored articles to measure at (1M: about 2 GB and 20 minutes to load for the current
    engine, whose load places every article in its story)."""
    relate_orders: int = 5
    relate_cost_repeats: int = 3
    """Runs of each engine at each size up to 100k, taking turns; the least disturbed (lowest
    mean) is kept: the machine is shared and a burst of other work can triple one run."""


SETTINGS = RelationsBenchSettings()
STEPS = 4 + 2 * len(SETTINGS.relate_sizes)
UNION_GRID = [0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3]
BENCH_GRID: dict[str, list[Any]] = {
    "tokens": [0.2, 0.3],
    "join_min": [0.15, 0.175, 0.2],
    "split_max": [0.55, 0.6],
    "split_min_size": [4, 5],
    "merge_min": [0.65, 2.0],
}
BENCH_TIME_GRID: dict[str, list[Any]] = {"decay_days": [60.0, 120.0], "reach_days": [60.0, 120.0]}


def components(prep: tune_stories.Prepared, story_min: float) -> dict[str, str]:
    """The engine before: stories as connected components of relations >= story_min (or
    near-copies), named by their earliest article."""
    parent = {a.id: a.id for a in prep.articles}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    keys = {a.id: a.key for a in prep.articles}
    for a in prep.articles:
        for other, score, duplicate in prep.neighbours(a.id):
            if score >= story_min or duplicate:
                ra, rb = find(a.id), find(other)
                if ra != rb:
                    keep, gone = sorted((ra, rb), key=keys.__getitem__)
                    parent[gone] = keep
    return {a.id: find(a.id) for a in prep.articles}


def cv_components(preps: dict[str, tune_stories.Prepared]) -> dict[str, Any]:
    """Cross-validated B-cubed of the engine before, its threshold chosen like the new one's."""
    table = {
        n: [tune_stories.per_article(p, components(p, m)) for m in UNION_GRID]
        for n, p in preps.items()
    }
    fold_idx = {n: tune_stories.folds(p.corpus) for n, p in preps.items()}
    held: dict[str, dict[int, tuple[float, float]]] = {n: {} for n in preps}
    for f in range(tune_stories.FOLDS):
        train = [
            statistics.mean(
                tune_stories.bcubed(
                    *table[n][k],
                    [i for j in range(tune_stories.FOLDS) if j != f for i in fold_idx[n][j]],
                )["f1"]
                for n in preps
            )
            for k in range(len(UNION_GRID))
        ]
        k = max(range(len(UNION_GRID)), key=lambda k: (train[k], -k))
        for n in preps:
            for i in fold_idx[n][f]:
                held[n][i] = (table[n][k][0][i], table[n][k][1][i])
    out = {}
    for n in preps:
        idx = sorted(held[n])
        out[n] = tune_stories.bcubed([held[n][i][0] for i in idx], [held[n][i][1] for i in idx])
    return out


def precisions_at_5(relator: Relator, corpus: corpora.Corpus) -> list[float | None]:
    """Each article's P@5 (None where its event has no other article)."""
    sizes = Counter(corpus.label.values())
    out: list[float | None] = []
    for a in corpus.articles:
        others = sizes[corpus.label[a.id]] - 1
        if others:
            top = relator.related(a.id, 5)
            right = sum(corpus.label[r.id] == corpus.label[a.id] for r in top)
            out.append(right / min(5, others))
        else:
            out.append(None)
    return out


def p_at_5(relator: Relator, corpus: corpora.Corpus) -> float:
    return statistics.mean(p for p in precisions_at_5(relator, corpus) if p is not None)


def fed(corpus: corpora.Corpus, order: list[Any]) -> tuple[Relator, dict[str, str]]:
    """The relate engine fed in this order, its stories read once per handler batch."""
    relator = Relator()
    for start in range(0, len(order), BATCH):
        for article in order[start : start + BATCH]:
            relator.add(article, defer_stories=True)
        relator.settle_stories()
    return relator, {a.id: relator.story_id(a.id) for a in corpus.articles}


def spread(values: list[float]) -> dict[str, float]:
    return {"mean": statistics.mean(values), "sd": statistics.pstdev(values)}


def orders(prep: tune_stories.Prepared, count: int) -> dict[str, Any]:
    corpus = prep.corpus
    keyed = sorted(corpus.articles, key=lambda a: (a.taken_in, a.id))  # the story key
    relator, reference = fed(corpus, keyed)
    runs = []
    rng = random.Random(15)
    for _ in range(count):
        order = keyed[:]
        rng.shuffle(order)
        shuffled, story = fed(corpus, order)
        b = tune_stories.bcubed(*tune_stories.per_article(prep, story))
        runs.append(
            {
                **b,
                "p_at_5": p_at_5(shuffled, corpus),
                "identical_to_key_order": story == reference,
                "decisions_redone": shuffled.stories.redone,
            }
        )
    params = StoryParams(timed=prep.timed)
    salted = [
        tune_stories.bcubed(
            *tune_stories.per_article(prep, tune_stories.cluster(prep, params, str(n) if n else ""))
        )
        for n in range(count)
    ]
    key_order = tune_stories.bcubed(*tune_stories.per_article(prep, reference))
    return {
        "articles": len(corpus.articles),
        "events": len(set(corpus.label.values())),
        "key_order": {**key_order, "p_at_5": p_at_5(relator, corpus)},
        "stories": len(set(reference.values())),
        "shuffled": {
            "runs": runs,
            **{k: spread([r[k] for r in runs]) for k in ("p", "r", "f1", "p_at_5")},
            "identical": sum(r["identical_to_key_order"] for r in runs),
        },
        "canonical_orders": {k: spread([s[k] for s in salted]) for k in ("p", "r", "f1")},
    }


def cost(size: int, python: Path, corpus: Path) -> dict[str, float]:
    done = subprocess.run(
        [str(python), str(ROOT / "bench" / "relate_cost.py"), str(size), str(corpus)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def scale(progress: tqdm[Any]) -> dict[str, Any]:
    corpora.load("news-cluster")
    corpus = corpora.enriched_path("news-cluster")
    engines = {"now": Path(sys.executable)}
    if SETTINGS.baseline != "none":
        engines["baseline"] = baseline_python(SETTINGS.baseline)
    out: dict[str, Any] = {name: {} for name in engines}
    for size in SETTINGS.relate_sizes:
        repeats = SETTINGS.relate_cost_repeats if size <= 100_000 else 1
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in engines}
        for _ in range(repeats):
            for name, python in engines.items():
                runs[name].append(cost(size, python, corpus))
        for name in engines:
            best = min(runs[name], key=lambda r: r["mean_ms"])
            out[name][str(size)] = {**best, "runs_mean_ms": [r["mean_ms"] for r in runs[name]]}
            progress.update(1)
    first, last = str(SETTINGS.relate_sizes[0]), str(SETTINGS.relate_sizes[-1])
    for name in engines:
        out[name]["ratio_largest_to_smallest"] = (
            out[name][last]["mean_ms"] / out[name][first]["mean_ms"]
        )
    if "baseline" in out:
        out["now_over_baseline"] = {
            str(n): out["now"][str(n)]["mean_ms"] / out["baseline"][str(n)]["mean_ms"]
            for n in SETTINGS.relate_sizes
        }
    return out


def run(progress: tqdm[Any]) -> tuple[dict[str, Any], str]:
    preps = {n: tune_stories.prepare(n) for n in corpora.NAMES}
    progress.update(1)
    grid = tune_stories.settings(BENCH_GRID, BENCH_TIME_GRID)
    per_setting = tune_stories.scores(preps, grid, ("",))
    cv = tune_stories.cross_validate(preps, grid, per_setting, BENCH_GRID | BENCH_TIME_GRID)
    progress.update(1)
    before = cv_components(preps)
    quality = {n: orders(p, SETTINGS.relate_orders) for n, p in preps.items()}
    progress.update(2)
    size = scale(progress)
    figures = {
        "cv": {n: cv["cv"][n] for n in preps},
        "cv_chosen_per_fold": cv["chosen_per_fold"],
        "cv_components_before": before,
        "defaults": StoryParams().__dict__,
        "quality": quality,
        "scale": size,
        "sizes": SETTINGS.relate_sizes,
        "baseline": SETTINGS.baseline,
    }
    return figures, table(figures)


def table(f: dict[str, Any]) -> str:
    names = list(f["quality"])
    quality_rows = []
    for n in names:
        q, cv, before = f["quality"][n], f["cv"][n], f["cv_components_before"][n]
        sh, co = q["shuffled"], q["canonical_orders"]
        quality_rows.append(
            f"| {n} | {q['articles']} / {q['events']} | **{cv['f1']:.3f}** ({cv['p']:.3f} / {cv['r']:.3f}) "
            f"| {before['f1']:.3f} ({before['p']:.3f} / {before['r']:.3f}) "
            f"| {sh['f1']['mean']:.3f} ± {sh['f1']['sd']:.3f} ({sh['identical']}/{len(sh['runs'])} identical) "
            f"| {co['f1']['mean']:.3f} ± {co['f1']['sd']:.3f} "
            f"| **{sh['p_at_5']['mean']:.3f}** ± {sh['p_at_5']['sd']:.3f} |"
        )
    scale = f["scale"]
    engines = [e for e in ("now", "baseline") if e in scale]
    scale_rows = []
    for n in f["sizes"]:
        cells = []
        for e in engines:
            r = scale[e][str(n)]
            cells.append(
                f"{r['mean_ms']:.2f} / {r['p99_ms']:.2f} / {r['load_seconds']:.0f} / {r['rss_mb']:.0f}"
            )
        ratio = f" | {scale['now_over_baseline'][str(n)]:.2f}" if "baseline" in scale else ""
        scale_rows.append(f"| {n:,} | " + " | ".join(cells) + ratio + " |")
    ratios = ", ".join(f"{e}: **{scale[e]['ratio_largest_to_smallest']:.2f}**" for e in engines)
    header = " | ".join(f"{e} mean / p99 ms / load s / RSS MB" for e in engines)
    return "\n".join(
        [
            "## Relate",
            "",
            "Stories against the gold events (B-cubed F1, with precision / recall). "
            "Cross-validated: settings chosen on the other topic folds of both corpora "
            f"({tune_stories.FOLDS} folds), scored on the held-out topics; shuffled: the tuned "
            "engine fed in shuffled orders in batches of 64 (mean ± spread); canonical orders: "
            "other tie-breaks among equal times. P@5: related lists, over the shuffled orders.",
            "",
            "| corpus | articles / events | CV story F1 (P / R) | CV before: connected components | "
            "shuffled orders F1 | canonical orders F1 | related P@5 |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *quality_rows,
            "",
            f"Cost per article with N articles stored (3,000 a day; in-process engine, no store "
            f"I/O; baseline: commit `{f['baseline']}`, connected components, measured in the "
            "same run, each size and engine in a process of its own, taking turns, the least "
            f"disturbed of {SETTINGS.relate_cost_repeats} runs up to 100k):",
            "",
            f"| stored | {header} |" + (" now / baseline |" if "baseline" in scale else ""),
            "|---:|" + "---:|" * (len(engines) + ("baseline" in scale)),
            *scale_rows,
            "",
            f"Ratio largest / smallest corpus (mean): {ratios} (goal ≤ 2).",
            "",
        ]
    )
