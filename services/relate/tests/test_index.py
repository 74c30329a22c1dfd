"""The candidate index against the plain definition of its answer, with caps small enough
that ties at the cut, long postings and the window's edge days all occur."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from newswire_relate.domain.features import Features
from newswire_relate.domain.index import DAY, CandidateIndex

pytestmark = pytest.mark.unit


def features(n: int, rng: random.Random) -> Features:
    return Features(
        id=f"{rng.getrandbits(128):032x}",
        time=rng.uniform(0, 40 * DAY),
        ingested=0.0,
        terms={},
        entities={},
        names={},
        keys=tuple(rng.sample(range(12), rng.randint(1, 5))),
        signature=np.zeros(4, dtype=np.uint32),
        title=f"Article {n}",
        url=f"https://news.example/{n}",
        source="news.example",
        published_at=None,
    )


def reference(index: CandidateIndex, slot: int) -> list[int]:
    """Every article within the window sharing a key, counted over each key-day's latest
    ``per_key_day_cap`` postings; most shared keys first, then by id; the first ``max``."""
    mine = index.articles[slot]
    day = int(mine.time // DAY)
    counts: Counter[int] = Counter()
    for key in mine.keys:
        for d in range(day - index.window_days, day + index.window_days + 1):
            counts.update(index._postings.get((key, d), [])[-index.per_key_day_cap :])
    del counts[slot]
    near = [
        other
        for other in counts
        if abs(index.articles[other].time - mine.time) <= index.window_days * DAY
    ]
    near.sort(key=lambda other: (-counts[other], index.articles[other].id))
    return near[: index.max_candidates]


@pytest.mark.parametrize("seed", range(5))
def test_candidates_are_the_plain_definition_whatever_the_filing_order(seed: int) -> None:
    rng = random.Random(seed)
    articles = [features(n, rng) for n in range(600)]
    # Three with a key of their own: fewer candidates than the cap.
    articles[:3] = [replace(loner, keys=(99,)) for loner in articles[:3]]
    index = CandidateIndex(window_days=5, per_key_day_cap=8, max_candidates=15)
    for article in articles:
        index.add(article)
    answers = {}
    for article in articles:
        slot = index.slot_of[article.id]
        found = index.candidates(slot)
        assert found == reference(index, slot)
        answers[article.id] = [index.articles[other].id for other in found]
    assert any(len(ids) == 15 for ids in answers.values())  # the cut was reached
    assert any(len(ids) < 15 for ids in answers.values())

    # Filed in another order (postings under the caps), the same ids in the same order.
    shuffled = CandidateIndex(window_days=5, per_key_day_cap=1000, max_candidates=15)
    reordered = CandidateIndex(window_days=5, per_key_day_cap=1000, max_candidates=15)
    for article in articles:
        shuffled.add(article)
    for article in rng.sample(articles, len(articles)):
        reordered.add(article)
    for article in articles:
        one = shuffled.candidates(shuffled.slot_of[article.id])
        two = reordered.candidates(reordered.slot_of[article.id])
        assert [shuffled.articles[s].id for s in one] == [reordered.articles[s].id for s in two]
