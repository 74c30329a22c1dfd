"""What relate compares articles by: a term vector, weighted entities and the words of their
names, index keys, a MinHash.

Plain, deterministic functions of one enriched article, so every relate instance derives the
same features from the same event.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TypeVar

import numpy as np
from datasketch import MinHash
from newswire_contracts import ArticleEnriched
from wordfreq import zipf_frequency

__all__ = ["SCALE", "Features", "dot", "entity_words", "features_of", "fixed_point", "stable_hash"]

SCALE = 1 << 16
"""Weights are fixed-point integers, SCALE being 1.0: the story pass adds and removes them
exactly, and keeps the article's own vectors rather than a converted copy of each."""

TERMS_KEPT = 100
NUMBER_IDF = 7.0
"""A number's fixed weight in place of an IDF (wordfreq has none for "6.1" or "2009"): two
events of one kind are often told apart by their figures, dates and tolls."""
KEY_ENTITIES = 6
KEY_TERMS = 6
MINHASH_PERMUTATIONS = 64
SHINGLE_WORDS = 5
_MAX_WORDS = 3_000
_COMMON_ZIPF = 5.5  # "said", "would", "people": no signal
_WORD = re.compile(r"[^\W\d_]{3,}")
_NUMBER = re.compile(r"\b\d[\d.,:]*\d\b|\b\d\b")
K = TypeVar("K")
_ENTITY_TYPES = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT"})


@dataclass(frozen=True, slots=True)
class Features:
    id: str
    time: float
    """Publication time (ingest time when unknown), seconds since the epoch."""
    ingested: float
    """When ingest first accepted the article (any version), seconds since the epoch: the
    story pass's order (see stories.py), which an edit does not change."""
    terms: dict[int, int]
    """Term id -> weight (fixed point); an L2-normalised TF-IDF vector over title, lead and
    body, numbers included."""
    entities: dict[str, float]
    """"TYPE:name" -> salience."""
    names: dict[str, int]
    """The words of the entities' names (``entity_words``), unit norm, fixed point."""
    keys: tuple[int, ...]
    """What the candidate index files the article under: its top entities and terms."""
    signature: np.ndarray
    """MinHash of its word 5-shingles (uint32), for near-duplicates."""
    title: str
    url: str
    source: str
    published_at: datetime | None


def stable_hash(text: str) -> int:
    """A hash that is the same in every process (Python's ``hash`` is salted)."""
    return zlib.crc32(text.encode()) & 0x7FFFFFFF


def features_of(
    article: ArticleEnriched, *, terms_kept: int = TERMS_KEPT, number_idf: float = NUMBER_IDF
) -> Features:
    """The defaults are learned (bench/tune_related.py); the parameters are for relearning."""
    moment = article.published_at or article.ingested_at
    language = article.language or "en"
    words = [w.lower() for w in _WORD.findall(article.text)[:_MAX_WORDS]]
    title_words = [w.lower() for w in _WORD.findall(article.title)]
    counts: Counter[str] = Counter(words)
    for word in title_words:
        counts[word] += 3
    for word in words[:60]:  # the lead says what the article is about
        counts[word] += 1
    weights = {}
    for word, n in counts.items():
        idf = _idf(word, language)
        if idf > 0:
            weights[word] = (1 + math.log(n)) * idf
    words_ranked = sorted(weights.items(), key=_heaviest_first)
    top = words_ranked[:terms_kept]
    if number_idf:
        numbers = Counter(_NUMBER.findall(f"{article.title} {article.text[:20_000]}"))
        top += [("#" + number, (1 + math.log(n)) * number_idf) for number, n in numbers.items()]
        top = sorted(top, key=_heaviest_first)[:terms_kept]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    terms = fixed_point({stable_hash(word): w / norm for word, w in top})
    entities = {
        f"{e.type}:{e.name}": max(e.salience, 0.05)
        for e in article.entities
        if e.type in _ENTITY_TYPES
    }
    key_entities = sorted(entities.items(), key=lambda item: (-item[1], item[0]))[:KEY_ENTITIES]
    keys = tuple(
        sorted(
            {stable_hash("e:" + name) for name, _ in key_entities}
            # Words only: a number is a poor key ("2" files half the corpus together).
            | {stable_hash("t:" + word) for word, _ in words_ranked[:KEY_TERMS]}
        )
    )
    return Features(
        id=article.id,
        time=moment.timestamp(),
        ingested=article.taken_in.timestamp(),
        terms=terms,
        entities=entities,
        names=fixed_point(entity_words(entities)),
        keys=keys,
        signature=_minhash(words),
        title=article.title,
        url=article.url,
        source=article.source,
        published_at=article.published_at,
    )


def _heaviest_first(item: tuple[str, float]) -> tuple[float, str]:
    return -item[1], item[0]


def entity_words(entities: dict[str, float]) -> dict[str, float]:
    """The words of the entities' names, each weighted by its entity's salience times the
    word's rarity (wordfreq IDF, at least 1), unit norm: "Thompson" meets "Tony Thompson"."""
    out: dict[str, float] = {}
    for key, salience in entities.items():
        for word in _WORD.findall(key.split(":", 1)[1]):
            word = word.lower()
            w = salience * max(_idf(word, "en"), 1.0)
            if w > out.get(word, 0.0):
                out[word] = w
    norm = math.sqrt(sum(w * w for w in out.values())) or 1.0
    return {k: w / norm for k, w in out.items()}


def fixed_point(weights: dict[K, float]) -> dict[K, int]:
    return {k: q for k, w in weights.items() if (q := round(w * SCALE))}


def dot(a: dict[K, int], b: dict[K, int]) -> int:
    """The dot product of two fixed-point vectors (SCALE * SCALE being 1.0)."""
    if len(a) > len(b):
        a, b = b, a
    get = b.get
    # A list, not a generator: the same additions in the same order, faster in CPython.
    return sum([weight * get(term, 0) for term, weight in a.items()])


_SEEDED = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=7)
"""Its permutations are drawn once: drawing them for every article was a third of the sketch's
time. The sketches are the same."""


def _minhash(words: list[str]) -> np.ndarray:
    sketch = MinHash(
        num_perm=MINHASH_PERMUTATIONS,
        seed=7,
        permutations=_SEEDED.permutations,
        scheme=_SEEDED.scheme,
    )
    shingles = [
        " ".join(words[i : i + SHINGLE_WORDS]).encode()
        for i in range(max(1, len(words) - SHINGLE_WORDS + 1))
    ]
    sketch.update_batch(shingles or [b""])
    return sketch.hashvalues.astype(np.uint32)


@lru_cache(maxsize=300_000)
def _idf(word: str, language: str) -> float:
    try:
        zipf = zipf_frequency(word, language)
    except (LookupError, ValueError, ImportError):
        zipf = zipf_frequency(word, "en")
    return 0.0 if zipf >= _COMMON_ZIPF else 8.0 - zipf
