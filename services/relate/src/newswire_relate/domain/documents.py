"""What relate writes and publishes for an article or a story, from the Relator's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from newswire_contracts import ArticleRelated, RelatedArticle, StoryUpdated
from newswire_contracts.readmodel import StoredStory, StoryArticle

from .relator import Relator, StorySummary

__all__ = ["Relations", "related_event", "relations_of", "story_document", "story_event"]

MAX_STORY_ARTICLES = 500


@dataclass(frozen=True, slots=True)
class Relations:
    """What relate computes for an article, as stored with it."""

    related: tuple[RelatedArticle, ...]
    story_id: str | None
    duplicate_of: str | None


def relations_of(relator: Relator, article_id: str) -> Relations:
    return Relations(
        related=relator.related(article_id),
        story_id=relator.story_id(article_id),
        duplicate_of=relator.duplicate_of(article_id),
    )


def related_event(
    article_id: str, version: int, relations: Relations, now: datetime
) -> ArticleRelated:
    return ArticleRelated(
        id=article_id,
        version=version,
        story_id=relations.story_id,
        related=relations.related,
        duplicate_of=relations.duplicate_of,
        updated_at=now,
    )


MAX_SUMMARY = 600


def story_document(
    relator: Relator, summary: StorySummary, now: datetime, text: str = ""
) -> StoredStory:
    """The story as stored; ``text``: its representative article's summary."""
    index = relator.index
    articles = []
    for member in summary.article_ids[:MAX_STORY_ARTICLES]:
        features = index.articles[index.slot_of[member]]
        articles.append(
            StoryArticle(
                id=member,
                title=features.title,
                url=features.url,
                source=features.source,
                published_at=features.published_at,
            )
        )
    return StoredStory(
        id=summary.id,
        title=summary.title,
        summary=_short(text),
        entities=summary.entities,
        people=summary.people,
        places=summary.places,
        organisations=summary.organisations,
        first_seen=summary.first_seen,
        last_seen=summary.last_seen,
        article_count=len(summary.article_ids),
        articles=tuple(articles),
        updated_at=now,
    )


def story_event(story: StoredStory, article_ids: tuple[str, ...]) -> StoryUpdated:
    return StoryUpdated(
        id=story.id,
        title=story.title,
        summary=story.summary,
        entities=story.entities[:50],
        people=story.people[:50],
        places=story.places[:50],
        organisations=story.organisations[:50],
        first_seen=story.first_seen,
        last_seen=story.last_seen,
        article_count=story.article_count,
        article_ids=article_ids[:10_000],
        merged_into=story.merged_into,
        updated_at=story.updated_at,
    )


def _short(text: str) -> str:
    """At most MAX_SUMMARY characters, cut at a word."""
    text = " ".join(text.split())
    if len(text) <= MAX_SUMMARY:
        return text
    return text[:MAX_SUMMARY].rsplit(" ", 1)[0] + "…"
