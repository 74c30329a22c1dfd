"""Learn relate's relation-score settings by topic-wise cross-validation of related lists.

    .venv/bin/python -m bench.tune_related      # a few minutes; report only

The related list's P@5 (bench.relations.p_at_5: a related article about the same event is
right) for every setting of a small grid: terms kept per article, the fixed weight of numbers
among the terms (0: no numbers), and the text cosine's share of the similarity (the entity
names' cosine has the rest). Folds are those of bench.tune_stories (topics dealt into FOLDS
groups); fold f of both corpora is held out together, one setting is chosen on the other
folds of both (production has one setting) and scored on the held-out topics.

The same features serve the story pass, so the code's defaults (TERMS_KEPT and NUMBER_IDF in
newswire_relate.domain.features, scoring.Weights.text) are chosen from this report's plateau
together with bench.tune_stories: numbers at 10 (chosen here on all folds) gave P@5 0.975 and
0.832 but stories' held-out F1 0.929 and 0.891; at 7 (next on the plateau, 0.972 and 0.834)
stories keep 0.929 and 0.906. This script reports, it does not write code. The report goes to
bench/results/tune-related.json.
"""

from __future__ import annotations

import itertools
import json
from statistics import mean
from typing import Any

from newswire_relate.domain.features import NUMBER_IDF, TERMS_KEPT, features_of
from newswire_relate.domain.relator import Relator
from newswire_relate.domain.scoring import Weights

from . import corpora, relations, tune_stories

REPORT = tune_stories.ROOT / "bench" / "results" / "tune-related.json"
GRID: dict[str, list[Any]] = {
    "terms_kept": [60, 100],
    "number_idf": [0.0, 3.0, 5.0, 7.0, 10.0],
    "text": [0.8, 0.9, 1.0],
}
DEFAULT = {"terms_kept": TERMS_KEPT, "number_idf": NUMBER_IDF, "text": Weights().text}


def precisions(corpus: corpora.Corpus, setting: dict[str, Any]) -> list[float | None]:
    """Each article's P@5 with this setting."""
    relator = Relator(Weights(text=setting["text"]))
    for article in corpus.articles:
        features = features_of(
            article, terms_kept=setting["terms_kept"], number_idf=setting["number_idf"]
        )
        relator.add_features(features, defer_stories=True)
    return relations.precisions_at_5(relator, corpus)


def main() -> None:
    settings = [dict(zip(GRID, combo, strict=True)) for combo in itertools.product(*GRID.values())]
    names = corpora.NAMES
    loaded = {n: corpora.load(n) for n in names}
    folds = {n: tune_stories.folds(loaded[n]) for n in names}
    runs = {n: [precisions(loaded[n], s) for s in settings] for n in names}

    def score(n: str, run: list[float | None], idx: list[int]) -> float:
        return mean(v for i in idx if (v := run[i]) is not None)

    near = tune_stories.neighbourhoods(settings, GRID)

    def choose(held_out: int) -> int:
        """The setting whose grid neighbourhood scores best on every fold but held_out (-1:
        on all), as bench.tune_stories chooses: a lone peak between poor neighbours loses."""
        train = {
            n: [i for g, idx in enumerate(folds[n]) if g != held_out for i in idx] for n in names
        }
        mean_of = [
            mean(score(n, runs[n][k], train[n]) for n in names) for k in range(len(settings))
        ]
        smooth = [mean(mean_of[j] for j in near[k]) for k in range(len(settings))]
        return max(range(len(settings)), key=lambda k: (smooth[k], -k))

    held: dict[str, list[float]] = {n: [] for n in names}
    chosen = []
    for f in range(tune_stories.FOLDS):
        best = choose(f)
        chosen.append(settings[best])
        for n in names:
            held[n] += [v for i in folds[n][f] if (v := runs[n][best][i]) is not None]
    final = settings[choose(-1)]
    everyone = {n: list(range(len(loaded[n].articles))) for n in names}
    report = {
        "folds": tune_stories.FOLDS,
        "cv_p_at_5": {n: mean(held[n]) for n in names},
        "chosen_per_fold": chosen,
        "final": final,
        "final_in_sample": {
            n: score(n, runs[n][settings.index(final)], everyone[n]) for n in names
        },
        "defaults": DEFAULT,
        "grid": [
            {**s, **{n: round(score(n, runs[n][k], everyone[n]), 4) for n in names}}
            for k, s in enumerate(settings)
        ],
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1) + "\n")
    for n in names:
        print(f"{n}: cross-validated P@5 {report['cv_p_at_5'][n]:.3f}")
    print("chosen per fold:", *(json.dumps(c) for c in chosen), sep="\n  ")
    print("chosen on all folds:", json.dumps(final), "in sample:", report["final_in_sample"])
    if final != DEFAULT:
        print(
            "the code's defaults differ:",
            json.dumps(DEFAULT),
            "(update features.py and scoring.py)",
        )


if __name__ == "__main__":
    main()
