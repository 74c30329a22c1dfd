"""Extractive summary and key points.

Summary: the lead (the first sentences, which news writing puts first on purpose), without
the boilerplate that sits there too (bylines, datelines, "Updated:" lines, photo credits,
fragments), up to three sentences. Measured on the dev corpus against each article's own
meta description, plain lead-3 scores ROUGE-1 0.374 and this cleaned lead 0.369, while
centrality-based selection (TF-IDF centroid with a title and position bonus) scored 0.30: the
descriptions are lead-like, and so are good news summaries. The cleaning costs 0.005 ROUGE-1
and keeps bylines out of the AI box.

Key points: the sentences closest to the whole article (cosine of word weights to the
document's, plus half that to the title's), outside the summary, in article order: what the
article goes on to say.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter

import numpy
from spacy.attrs import IS_ALPHA
from spacy.tokens import Doc, Span

from .keywords import content_words, word_idf

__all__ = ["key_points_of", "prose_sentences", "summary_of"]

MAX_SENTENCES = 3
MAX_SUMMARY_CHARS = 1_000
_BOILERPLATE = re.compile(
    r"(updated|published|posted|last modified)\s*[:|]|photo:|image:|getty images|\bread more\b|"
    r"click here|sign up|subscribe|all rights reserved|^\W*by [A-Z]|^\W*\(?(AP|AFP|Reuters)\)?\s*[-—–]",
    re.IGNORECASE,
)
_ENDS_LIKE_A_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*$")


def prose_sentences(doc: Doc, *, start_char: int = 0) -> list[Span]:
    """Sentences from ``start_char`` on that read as sentences: six words or more, ending
    like one, no boilerplate."""
    kept = []
    # Words counted off an array and text cut from the document's, once: a span's text and a
    # pass over its words each make a Token per word, which cost more than the rest.
    alpha_before = numpy.concatenate(([0], numpy.cumsum(doc.to_array(IS_ALPHA)))).tolist()
    whole = doc.text
    for sentence in doc.sents:
        if sentence.start_char < start_char:
            continue
        text = whole[sentence.start_char : sentence.end_char].strip()
        words = alpha_before[sentence.end] - alpha_before[sentence.start]
        if words >= 6 and _ENDS_LIKE_A_SENTENCE.search(text) and not _BOILERPLATE.search(text):
            kept.append(sentence)
    return kept


def summary_of(sentences: list[Span]) -> str:
    chosen: list[str] = []
    for sentence in sentences[:MAX_SENTENCES]:
        text = " ".join(sentence.text.split())
        if chosen and sum(len(s) + 1 for s in chosen) + len(text) > MAX_SUMMARY_CHARS:
            break
        chosen.append(text[:MAX_SUMMARY_CHARS])
    return " ".join(chosen)


def key_points_of(
    doc: Doc, sentences: list[Span], title: str, language: str, *, skip: int = MAX_SENTENCES
) -> tuple[str, ...]:
    candidates = list(enumerate(sentences))[skip:]
    if not candidates:
        return ()
    # The words are read off the document once (a pass over a span's tokens is costly), then
    # each sentence takes its slice of them.
    positions, words, _ = content_words(doc)
    document = _weights(words, language)
    heading = _title_weights(title, doc, language) if title else {}
    scored = []
    for i, sentence in candidates:
        first, last = bisect_left(positions, sentence.start), bisect_left(positions, sentence.end)
        weights = _weights(words[first:last], language)
        scored.append((_cosine(weights, document) + 0.5 * _cosine(weights, heading), i))
    scored.sort(reverse=True)
    best = sorted(i for _, i in scored[:MAX_SENTENCES])
    return tuple(" ".join(sentences[i].text.split())[:500] for i in best)


def _weights(words: list[str], language: str) -> dict[str, float]:
    counts = Counter(words)
    return {word: (1 + math.log(n)) * word_idf(word, language) for word, n in counts.items()}


def _title_weights(title: str, doc: Doc, language: str) -> dict[str, float]:
    words = Counter(
        w.lower()
        for w in re.findall(r"\w+", title)
        if w.isalpha() and not doc.vocab[w.lower()].is_stop
    )
    return {word: (1 + math.log(n)) * word_idf(word, language) for word, n in words.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0
