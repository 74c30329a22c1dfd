"""How related two articles are: text, the names they share, and time apart; and whether one
is a near-copy of the other."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .features import SCALE, Features, dot

__all__ = ["Relation", "Weights", "relation_between"]

DAY = 86_400.0
_ONE = SCALE * SCALE  # the product of two fixed-point weights of 1


@dataclass(frozen=True)
class Weights:
    """Learned on the two dev corpora: see bench/tune_related.py."""

    text: float = 0.9
    """Share of the TF-IDF cosine in the similarity; the cosine of the entities' name words
    has the rest."""
    decay_days: float = 7.0
    """Time apart that takes the similarity down to about 60 % (exp(-1/2))."""
    related_min: float = 0.05
    duplicate_min: float = 0.6
    """Estimated Jaccard of 5-word shingles above which two texts are one text."""
    copy_text_min: float = 0.3
    """TF-IDF cosine below which two texts are never near-copies (a near-copy shares most of
    its words), so most pairs skip the MinHash comparison."""


@dataclass(frozen=True, slots=True)
class Relation:
    score: float
    duplicate: bool
    shared_entities: tuple[str, ...]


def relation_between(a: Features, b: Features, weights: Weights) -> Relation:
    """Symmetric: the same relation whichever article comes first."""
    text = dot(a.terms, b.terms) / _ONE
    similarity = weights.text * text + (1 - weights.text) * dot(a.names, b.names) / _ONE
    apart = abs(a.time - b.time) / DAY
    score = similarity * math.exp(-apart / (2 * weights.decay_days))
    # The share of equal MinHash values (as np.mean gives it, without its overhead).
    duplicate = (
        text >= weights.copy_text_min
        and int(np.count_nonzero(a.signature == b.signature)) / len(a.signature)
        >= weights.duplicate_min
    )
    score = round(min(1.0, max(0.0, 1.0 if duplicate else score)), 4)
    names: list[str] = []
    if duplicate or score >= weights.related_min:  # weaker relations are never shown
        shared = {
            k: min(a.entities[k], b.entities[k]) for k in a.entities.keys() & b.entities.keys()
        }
        names = sorted(shared, key=lambda k: (-shared[k], k))[:5]
    return Relation(
        score=score,
        duplicate=duplicate,
        shared_entities=tuple(name.split(":", 1)[1] for name in names),
    )
