"""Learn relate's story settings by topic-wise cross-validation on the two dev corpora.

    .venv/bin/python -m bench.tune_stories            # report only
    .venv/bin/python -m bench.tune_stories --write    # and write the chosen defaults

Every setting of the grid is run once on each whole corpus (the story pass needs no labels)
and each article's B-cubed precision and recall are kept. Folds are groups of topics
(ecbplus-dev's topics, news-cluster's categories, dealt round-robin into FOLDS groups); fold
f of both corpora is held out together: one setting for both corpora (production has one)
is chosen on the other folds of *both*, and scored on the held-out topics. Held-out
per-article P and R pooled over the folds give the CV scores. The choice favours plateaus:
the setting whose grid neighbourhood (itself and every setting one step away in one
parameter) has the best mean training F1, so that a lone peak between poor neighbours is
not chosen. Each setting's scores average SALTS canonical orders (other tie-breaks among
equal times: ecbplus-dev has no times at all). ``--write`` puts the setting chosen on all
folds into services/relate/src/newswire_relate/domain/story_tuning.py, where relate's
settings take their defaults. The report goes to bench/results/tune-stories.json.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from statistics import mean
from typing import Any

from newswire_relate.domain.relator import Relator
from newswire_relate.domain.stories import StoryArticle, StoryClusterer, StoryParams, story_article

from . import corpora

ROOT = Path(__file__).parents[1]
TUNED_MODULE = ROOT / "services/relate/src/newswire_relate/domain/story_tuning.py"
REPORT = ROOT / "bench" / "results" / "tune-stories.json"
FOLDS = 6
SALTS = ("", "tune")

GRID: dict[str, list[Any]] = {
    "tokens": [0.2, 0.3],  # the text centroid's weight is 1 - tokens
    "join_min": [0.15, 0.175, 0.2, 0.225],
    "split_max": [-1.0, 0.55, 0.6, 0.65],
    "split_min_size": [3, 4, 5],
    "merge_min": [0.65, 0.7, 2.0],
}
TIME_GRID: dict[str, list[Any]] = {
    "decay_days": [30.0, 60.0, 120.0],
    "reach_days": [0.0, 60.0, 120.0],
}


@dataclass
class Prepared:
    """A corpus with its relation graph built once: what every story pass reads."""

    corpus: corpora.Corpus
    articles: list[StoryArticle]
    neighbours: Callable[[str], Iterable[tuple[str, float, bool]]]
    timed: bool


def prepare(name: str) -> Prepared:
    corpus = corpora.load(name)
    relator = Relator()
    for article in corpus.articles:
        relator.add(article, defer_stories=True)  # relations only: stories are ours
    articles = [story_article(f, entities=False) for f in relator.index.articles]
    timed = any(a.time is not None for a in articles)
    return Prepared(corpus, articles, relator._neighbours, timed)


def params_of(setting: dict[str, Any], timed: bool = True) -> StoryParams:
    s = dict(setting)
    tokens = s.pop("tokens")
    return replace(StoryParams(), text=round(1 - tokens, 3), tokens=tokens, timed=timed, **s)


def cluster(prep: Prepared, params: StoryParams, salt: str = "") -> dict[str, str]:
    """Article id -> story root, in the canonical order of ``salt`` (another tie-break
    among equal times; "" is relate's own)."""
    if not salt:
        c = StoryClusterer(params, prep.neighbours)
        for a in sorted(prep.articles, key=lambda a: a.key):
            c.add(a)
        return dict(c.story_of)
    # Renamed articles: the id is the tie-break, so a salted id is another canonical order.
    new = {a.id: hashlib.sha256((salt + a.id).encode()).hexdigest() + a.id for a in prep.articles}
    old = {v: k for k, v in new.items()}

    def neighbours(i: str) -> list[tuple[str, float, bool]]:
        return [(new[o], s, d) for o, s, d in prep.neighbours(old[i])]

    c = StoryClusterer(params, neighbours)
    renamed = [replace(a, id=new[a.id], key=(a.key[0], new[a.id])) for a in prep.articles]
    for a in sorted(renamed, key=lambda a: a.key):
        c.add(a)
    return {old[i]: old[root] for i, root in c.story_of.items()}


def per_article(
    prep: Prepared, story: dict[str, str], ids: list[str] | None = None
) -> tuple[list[float], list[float]]:
    """Each article's B-cubed precision and recall (against the whole corpus's labels)."""
    label = prep.corpus.label
    ids = ids or [a.id for a in prep.corpus.articles]
    pair = Counter((story[i], label[i]) for i in ids)
    by_story = Counter(story[i] for i in ids)
    by_label = Counter(label[i] for i in ids)
    p = [pair[story[i], label[i]] / by_story[story[i]] for i in ids]
    r = [pair[story[i], label[i]] / by_label[label[i]] for i in ids]
    return p, r


def bcubed(p: list[float], r: list[float], idx: Iterable[int] | None = None) -> dict[str, float]:
    idx = list(range(len(p))) if idx is None else list(idx)
    pp, rr = mean(p[i] for i in idx), mean(r[i] for i in idx)
    return {"p": pp, "r": rr, "f1": 2 * pp * rr / (pp + rr)}


def folds(corpus: corpora.Corpus) -> list[list[int]]:
    """Article positions of each fold: topics (sorted, numerically where they are numbers)
    dealt round-robin into FOLDS groups."""
    topics = sorted(set(corpus.topic.values()), key=lambda t: (len(t), t))
    fold_of = {t: i % FOLDS for i, t in enumerate(topics)}
    out: list[list[int]] = [[] for _ in range(FOLDS)]
    for i, a in enumerate(corpus.articles):
        out[fold_of[corpus.topic[a.id]]].append(i)
    return out


TIME_KEYS = frozenset(TIME_GRID)


def settings(
    grid: dict[str, list[Any]] = GRID, time_grid: dict[str, list[Any]] = TIME_GRID
) -> list[dict[str, Any]]:
    keys = [*grid, *time_grid]
    out = []
    for combo in itertools.product(*(grid | time_grid).values()):
        s = dict(zip(keys, combo, strict=True))
        if s["split_max"] == -1.0 and s["split_min_size"] != grid["split_min_size"][0]:
            continue  # no split test: its size is moot
        if s["merge_min"] <= s["split_max"]:
            continue  # a split would be merged straight back
        out.append(s)
    return out


def _name(setting: dict[str, Any]) -> str:
    return json.dumps(setting, sort_keys=True)


def neighbourhoods(grid: list[dict[str, Any]], steps: dict[str, list[Any]]) -> list[list[int]]:
    """For each setting, itself and the settings one grid step away in one parameter."""
    at = {_name(s): i for i, s in enumerate(grid)}
    out = []
    for s in grid:
        near = [at[_name(s)]]
        for param, values in steps.items():
            i = values.index(s[param])
            for j in (i - 1, i + 1):
                if 0 <= j < len(values):
                    other = at.get(_name({**s, param: values[j]}))
                    if other is not None:
                        near.append(other)
        out.append(near)
    return out


def scores(
    preps: dict[str, Prepared], grid: list[dict[str, Any]], salts: tuple[str, ...]
) -> dict[str, list[tuple[list[float], list[float]]]]:
    """Per corpus, per setting: each article's P and R, averaged over the salts. Settings that
    differ only in time settings are run once on a corpus without times."""
    out: dict[str, list[tuple[list[float], list[float]]]] = {}
    for name, prep in preps.items():
        cache: dict[str, tuple[list[float], list[float]]] = {}
        rows = []
        started = time.monotonic()
        for n, s in enumerate(grid):
            key = _name(s if prep.timed else {k: v for k, v in s.items() if k not in TIME_KEYS})
            if key not in cache:
                runs = [
                    per_article(prep, cluster(prep, params_of(s, prep.timed), salt))
                    for salt in salts
                ]
                cache[key] = (
                    [mean(x) for x in zip(*(p for p, _ in runs), strict=True)],
                    [mean(x) for x in zip(*(r for _, r in runs), strict=True)],
                )
            rows.append(cache[key])
            if n % 50 == 0:
                print(
                    f"{name}: {n}/{len(grid)} settings, {time.monotonic() - started:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
        out[name] = rows
    return out


def cross_validate(
    preps: dict[str, Prepared],
    grid: list[dict[str, Any]],
    table: dict[str, list[tuple[list[float], list[float]]]],
    steps: dict[str, list[Any]] | None = None,
) -> dict[str, Any]:
    """``steps``: the grid's values per parameter (default: GRID and TIME_GRID)."""
    steps = steps or GRID | TIME_GRID
    names = list(preps)
    fold_idx = {n: folds(preps[n].corpus) for n in names}
    near = neighbourhoods(grid, steps)

    def training(f: int) -> list[float]:
        """Each setting's mean F1 over both corpora, on every fold but f (-1: on all)."""
        out = []
        for k in range(len(grid)):
            per = []
            for n in names:
                idx = [i for j in range(FOLDS) if j != f for i in fold_idx[n][j]]
                per.append(bcubed(*table[n][k], idx)["f1"])
            out.append(mean(per))
        return out

    def choose(train: list[float]) -> int:
        smooth = [mean(train[j] for j in near[k]) for k in range(len(grid))]
        return max(range(len(grid)), key=lambda k: (smooth[k], -k))

    held: dict[str, dict[int, tuple[float, float]]] = {n: {} for n in names}
    chosen = []
    for f in range(FOLDS):
        k = choose(training(f))
        chosen.append(grid[k])
        for n in names:
            for i in fold_idx[n][f]:
                held[n][i] = (table[n][k][0][i], table[n][k][1][i])
    cv = {}
    for n in names:
        idx = sorted(held[n])
        cv[n] = bcubed([held[n][i][0] for i in idx], [held[n][i][1] for i in idx])
    everything = training(-1)
    k = choose(everything)
    final = grid[k]
    at = {_name(s): i for i, s in enumerate(grid)}
    sensitivity: dict[str, list[dict[str, Any]]] = {}
    for param, values in steps.items():
        for v in values:
            j = at.get(_name({**final, param: v}))
            if j is not None:
                sensitivity.setdefault(param, []).append(
                    {"value": v, **{n: round(bcubed(*table[n][j])["f1"], 4) for n in names}}
                )
    return {
        "folds": FOLDS,
        "cv": cv,
        "chosen_per_fold": chosen,
        "final": final,
        "final_params": asdict(params_of(final)),
        "in_sample": {n: bcubed(*table[n][k]) for n in names},
        "sensitivity": sensitivity,
        "settings": len(grid),
        "within_0.01_of_best": sum(s >= max(everything) - 0.01 for s in everything),
    }


def write_defaults(report: dict[str, Any]) -> None:
    final = report["final"]
    cv = ", ".join(f"{n} {v['f1']:.3f}" for n, v in report["cv"].items())
    lines = [
        '"""Story settings learned by topic-wise cross-validation (written by bench/tune_stories.py)."""',
        "",
        "# Generated: rerun `.venv/bin/python -m bench.tune_stories --write` to learn them again.",
        f"# Cross-validated B-cubed F1 when they were learned: {cv}.",
        "TUNED: dict[str, float] = {",
        *(f'    "{k}": {final[k]!r},' for k in sorted(final)),
        "}",
        "",
    ]
    TUNED_MODULE.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.tune_stories", description=__doc__)
    parser.add_argument("--write", action="store_true", help="write the chosen defaults")
    parser.add_argument("--salts", type=int, default=len(SALTS), help="canonical orders (1-2)")
    args = parser.parse_args()
    preps = {n: prepare(n) for n in corpora.NAMES}
    grid = settings()
    table = scores(preps, grid, SALTS[: args.salts])
    report = cross_validate(preps, grid, table)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1))
    for n, v in report["cv"].items():
        print(f"{n}: cross-validated B-cubed P {v['p']:.3f} R {v['r']:.3f} F1 {v['f1']:.3f}")
    print("chosen on every fold:", json.dumps(report["final"]))
    for param, rows in report["sensitivity"].items():
        cells = " ".join(f"{r['value']}: " + "/".join(f"{r[n]:.3f}" for n in preps) for r in rows)
        print(f"  {param} ({'/'.join(preps)}) {cells}")
    if args.write:
        write_defaults(report)
        print(f"written to {TUNED_MODULE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
