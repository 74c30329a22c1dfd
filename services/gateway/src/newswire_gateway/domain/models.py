"""What the gateway serves and keeps beyond the read model: listings, feed registrations,
comments, and the filters of an article listing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from newswire_contracts import Entity
from newswire_contracts.readmodel import StoredModel, StoryArticle, search_terms
from pydantic import AwareDatetime, ConfigDict

__all__ = [
    "ArticleQuery",
    "Comment",
    "FeedRegistration",
    "ListedArticle",
    "query_terms",
]


@dataclass(frozen=True)
class ArticleQuery:
    """Filters of an article listing; every value is a plain string or time, never an operator."""

    source: str | None = None
    entity: str | None = None
    language: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    terms: tuple[str, ...] = ()


def query_terms(q: str | None) -> tuple[str, ...]:
    """The words (up to ten) an article must have to match the search ``q``.

    Articles are indexed without stop words and one-letter words, so those are left out of
    the search as well; a ``q`` of nothing else asks for no word (every article matches).
    """
    if q is None:
        return ()
    return tuple(search_terms(q))[:10]


class ListedArticle(StoryArticle, StoredModel):
    """An article in a listing: everything but its text and relations, and where it sorts."""

    ingested_at: AwareDatetime
    sort_time: AwareDatetime
    language: str | None = None
    summary: str = ""
    keywords: tuple[str, ...] = ()
    entities: tuple[Entity, ...] = ()
    story_id: str | None = None


class FeedRegistration(StoredModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    url: str
    title: str | None
    poll_interval_seconds: int | None
    created_at: AwareDatetime
    updated_at: AwareDatetime

    def renewing(
        self, existing: FeedRegistration | None, *, interval_given: bool
    ) -> FeedRegistration:
        """This registration of a feed registered before as ``existing``: what it leaves out
        (no title, no interval given) keeps its value, and the feed its creation time."""
        if existing is None:
            return self
        interval = self.poll_interval_seconds if interval_given else existing.poll_interval_seconds
        return self.model_copy(
            update={
                "title": existing.title if self.title is None else self.title,
                "poll_interval_seconds": interval,
                "created_at": existing.created_at,
            }
        )


class Comment(StoredModel):
    id: str
    article_id: str
    author: str
    body: str
    posted_at: AwareDatetime
    hidden: bool = False
