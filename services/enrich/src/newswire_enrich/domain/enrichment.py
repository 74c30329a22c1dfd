"""Enriching articles in batches: the enrich service's rules as plain functions.

CPU-bound throughout (spaCy, lingua): call ``Enricher.enrich`` off the event loop.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from newswire_contracts import ArticleEnriched, ArticleIngested
from spacy.language import Language
from spacy.tokens import Doc

from .entities import entities_of, mentions_of
from .keywords import keywords_of
from .reading import reading_time_minutes, word_count
from .summary import key_points_of, prose_sentences, summary_of

__all__ = ["DetectedLanguage", "Enricher", "LanguageDetector", "Pipelines", "prepare_text"]

_TAG = re.compile(r"<[^<>]{1,2000}>")
_UNCERTAIN = 0.5


@dataclass(frozen=True, slots=True)
class DetectedLanguage:
    code: str
    """ISO 639-1 code, e.g. 'en'."""
    confidence: float


class LanguageDetector(Protocol):
    """What the Enricher asks of language identification (adapters.language)."""

    def detect(self, text: str) -> DetectedLanguage | None: ...


class Pipelines(Protocol):
    """What the Enricher asks of the spaCy pipelines (adapters.nlp): the entity model for
    its language, a blank pipeline (tokens and sentences) for any other."""

    model_name: str
    entity_language: str

    def for_language(self, code: str | None) -> Language: ...


@dataclass(frozen=True, slots=True)
class _Prepared:
    article: ArticleIngested
    analysed: str
    title_chars: int
    words: int
    language: str | None
    confidence: float
    flags: tuple[str, ...]

    @property
    def worth_analysing(self) -> bool:
        return "no_prose" not in self.flags


def prepare_text(text: str, max_chars: int) -> tuple[str, tuple[str, ...]]:
    """The text to analyse and what was done to it: markup stripped, length bounded."""
    flags: list[str] = []
    if len(_TAG.findall(text[:20_000])) > 3:
        stripped = html.unescape(_TAG.sub(" ", text))
        if len(stripped.split()) < len(text.split()):
            text, flags = " ".join(stripped.split(" ")), ["markup_removed"]
    if len(text) > max_chars:
        text = text[:max_chars]
        flags.append("text_cut_for_analysis")
    return text, tuple(flags)


def _whole_count(text: str, body: str, body_words: int, flags: tuple[str, ...]) -> int:
    """Words of the whole text (of the text without its markup where that was removed)."""
    if body is text or "markup_removed" in flags:
        return body_words  # the text as analysed: counted already
    return word_count(text)


class Enricher:
    """Language, entities, keywords, summary, key points and reading time for articles."""

    def __init__(
        self,
        pipelines: Pipelines,
        languages: LanguageDetector,
        *,
        words_per_minute: int = 230,
        max_chars: int = 50_000,
        min_words: int = 40,
    ) -> None:
        self.pipelines = pipelines
        self.languages = languages
        self.words_per_minute = words_per_minute
        self.max_chars = max_chars
        self.min_words = min_words

    def enrich(
        self, articles: Sequence[ArticleIngested], *, now: datetime
    ) -> list[ArticleEnriched]:
        """Enrich a batch; articles in the entity model's language go through it together."""
        prepared = [self._prepare(article) for article in articles]
        docs: list[Doc | None] = [None] * len(prepared)
        by_pipeline: dict[int, tuple[Language, list[int]]] = {}
        for index, item in enumerate(prepared):
            if item.worth_analysing:
                nlp = self.pipelines.for_language(item.language)
                by_pipeline.setdefault(id(nlp), (nlp, []))[1].append(index)
        for nlp, indices in by_pipeline.values():
            texts = (prepared[i].analysed for i in indices)
            for index, doc in zip(indices, nlp.pipe(texts, batch_size=len(indices)), strict=True):
                docs[index] = doc
        return [self._assemble(item, doc, now) for item, doc in zip(prepared, docs, strict=True)]

    def _prepare(self, article: ArticleIngested) -> _Prepared:
        body, flags = prepare_text(article.text, self.max_chars)
        title = " ".join(article.title.split())
        analysed = f"{title}\n\n{body}" if title else body
        words = word_count(body)
        detected = self.languages.detect(analysed)
        language = detected.code if detected else article.language_hint
        confidence = detected.confidence if detected else 0.0
        extra: list[str] = []
        if words == 0 or detected is None:
            extra.append("no_prose")
        elif words < self.min_words:
            extra.append("too_short")
        if detected is not None and confidence < _UNCERTAIN:
            extra.append("uncertain_language")
        return _Prepared(
            article=article,
            analysed=analysed,
            title_chars=len(title) + 2 if title else 0,
            words=_whole_count(article.text, body, words, flags),
            language=language,
            confidence=confidence,
            flags=(*flags, *extra),
        )

    def _assemble(self, item: _Prepared, doc: Doc | None, now: datetime) -> ArticleEnriched:
        article, language = item.article, item.language or "xx"
        entities, keywords, summary, key_points = (), (), "", ()
        has_entity_model = doc is not None and item.language == self.pipelines.entity_language
        if doc is not None:
            if has_entity_model:
                entities = entities_of(mentions_of(doc), title_chars=item.title_chars)
            keywords = keywords_of(doc, language)
            if "too_short" not in item.flags:
                sentences = prose_sentences(doc, start_char=item.title_chars)
                summary = summary_of(sentences)
                key_points = key_points_of(doc, sentences, article.title, language)
        missing = [
            name
            for name, present in (
                ("language", item.language is not None),
                ("entities", has_entity_model),
                ("keywords", bool(keywords)),
                ("summary", bool(summary)),
            )
            if not present
        ]
        return ArticleEnriched(
            **article.model_dump(),
            language=item.language,
            language_confidence=item.confidence,
            word_count=item.words,
            reading_time_minutes=reading_time_minutes(item.words, self.words_per_minute),
            entities=entities,
            keywords=keywords,
            summary=summary,
            key_points=key_points,
            enriched_at=now,
            missing=tuple(missing),
            flags=item.flags,
            entity_model=self.pipelines.model_name if has_entity_model else None,
        )
