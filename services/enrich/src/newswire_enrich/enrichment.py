"""Enriching one article: the enrich service's rules as a plain function."""

from __future__ import annotations

from datetime import datetime

from newswire_contracts import ArticleEnriched, ArticleIngested

from .language import LanguageIdentifier
from .reading import reading_time_minutes, word_count

__all__ = ["enrich_article"]


def enrich_article(
    article: ArticleIngested,
    *,
    languages: LanguageIdentifier,
    now: datetime,
    words_per_minute: int = 230,
) -> ArticleEnriched:
    """Add language, word count and reading time to an ingested article.

    CPU-bound: call it off the event loop.
    """
    missing: list[str] = []
    detected = languages.detect(f"{article.title}\n{article.text}")
    if detected is None:
        missing.append("language")
    words = word_count(article.text)
    return ArticleEnriched(
        **article.model_dump(),
        language=detected.code if detected else article.language_hint,
        language_confidence=detected.confidence if detected else 0.0,
        word_count=words,
        reading_time_minutes=reading_time_minutes(words, words_per_minute),
        enriched_at=now,
        missing=(*missing, "entities", "keywords", "summary"),
    )
