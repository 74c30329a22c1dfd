"""The words of an analysed document, read off spaCy's arrays once.

Keywords, sentence filtering and key points each used to walk the document token by token;
a spaCy ``Token`` is a Python object made afresh on every access, and those walks cost more
than a quarter of enrich's own (non-model) time. Here the lexical flags come out as one
array per document, and each user takes what it needs.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from spacy.attrs import IS_ALPHA, IS_STOP, LENGTH, LOWER
from spacy.tokens import Doc, Span

__all__ = ["Words", "text_of", "words_of"]

_KEY = "newswire_words"


@dataclass(frozen=True, slots=True)
class Words:
    alpha: list[int]
    """Token indices of the alphabetic tokens, in order."""
    content: list[tuple[int, str, int]]
    """The alphabetic tokens that are not stop words: (token index, lower case, length)."""
    text: str
    """The document's text (``Doc.text`` joins every token's text on each access)."""

    def alpha_between(self, start: int, end: int) -> int:
        """How many alphabetic tokens lie in ``doc[start:end]``."""
        return bisect_left(self.alpha, end) - bisect_left(self.alpha, start)


def words_of(doc: Doc) -> Words:
    """The document's words (computed once per document)."""
    found = doc.user_data.get(_KEY)
    if isinstance(found, Words):
        return found
    strings = doc.vocab.strings
    alpha: list[int] = []
    content: list[tuple[int, str, int]] = []
    for i, (is_alpha, is_stop, lower, length) in enumerate(
        doc.to_array([IS_ALPHA, IS_STOP, LOWER, LENGTH]).tolist()
    ):
        if is_alpha:
            alpha.append(i)
            if not is_stop:
                content.append((i, strings[lower], length))
    words = Words(alpha, content, doc.text)
    doc.user_data[_KEY] = words
    return words


def text_of(span: Span) -> str:
    """``span.text``, sliced from the document's text rather than joined token by token."""
    return words_of(span.doc).text[span.start_char : span.end_char]
