"""Read models shared between services through MongoDB: who writes what, who reads it.

- ``articles``: written by relate, served by the gateway (StoredArticle).
- ``article_aliases``: written by relate: ``{_id: other id, article_id: id}`` for every URL
  that leads to an article stored under another (canonical) URL.
- ``feed_status``: written by ingest, served by the gateway (FeedStatus).
- ``stories``: written by relate, served by the gateway (StoredStory).

Documents are keyed by id (``_id``), the one lookup every MongoDB-wire store answers from
an index. Writers may store more fields than these models name; readers ignore the rest.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .events import ArticleEnriched, ArticleFields, EnrichmentFields, RelatedArticle

__all__ = [
    "ALIASES_COLLECTION",
    "ARTICLES_COLLECTION",
    "FEED_STATUS_COLLECTION",
    "STORIES_COLLECTION",
    "FeedStatus",
    "StoredArticle",
    "StoredStory",
    "StoryArticle",
    "article_document",
]

ARTICLES_COLLECTION = "articles"
ALIASES_COLLECTION = "article_aliases"
FEED_STATUS_COLLECTION = "feed_status"
STORIES_COLLECTION = "stories"


class StoredArticle(EnrichmentFields, ArticleFields):
    """An article as stored and served: its content, enrichment and relations."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=False)

    story_id: str | None = Field(default=None, description="The story this article belongs to.")
    related: tuple[RelatedArticle, ...] = Field(default=(), description="Best first.")
    duplicate_of: str | None = Field(
        default=None, description="The earliest article it is a near-copy of."
    )
    stored_at: AwareDatetime = Field(description="When relate last wrote this article.")

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> StoredArticle:
        # Lax: BSON gives lists where the (strict) event models have tuples.
        return cls.model_validate({**document, "id": document["_id"]}, strict=False)


def article_document(article: ArticleEnriched) -> dict[str, Any]:
    """The fields of an enriched article as stored, without ``_id`` and relations."""
    fields = set(ArticleFields.model_fields) | set(EnrichmentFields.model_fields)
    document = article.model_dump(mode="python", include=fields)
    document.pop("id")
    return document


class FeedStatus(BaseModel):
    """How polling a feed goes, as ingest records it after every poll."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    url: str
    last_fetch_at: AwareDatetime | None = Field(
        default=None, description="Last poll, successful or not."
    )
    last_success_at: AwareDatetime | None = None
    last_status: int | None = Field(default=None, description="HTTP status of the last fetch.")
    last_error: str | None = Field(
        default=None, description="Why the last poll failed; null after a success."
    )
    error_count: int = Field(default=0, description="Consecutive failed polls.")
    entries_seen: int = Field(default=0, description="Entries read, over all polls.")
    articles_published: int = Field(
        default=0, description="New articles and new versions published."
    )
    last_entry_error: str | None = Field(
        default=None, description="The last entry that could not be ingested."
    )
    next_fetch_at: AwareDatetime = Field(description="When the feed is next polled.")
    interval_seconds: int = Field(description="Poll interval in force (adaptive unless fixed).")
    warnings: tuple[str, ...] = Field(
        default=(), description="E.g. malformed XML that could be read anyway."
    )
    feed_title: str | None = Field(default=None, description="The title the feed gives itself.")
    site_url: str | None = None

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> FeedStatus:
        return cls.model_validate({**document, "id": document["_id"]})


class StoryArticle(BaseModel):
    """An article as a story lists it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    title: str
    url: str
    source: str
    published_at: AwareDatetime | None = None


class StoredStory(BaseModel):
    """A story: every outlet's article about one event, in time order."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    title: str = Field(description="The earliest article's title.")
    entities: tuple[str, ...] = Field(default=(), description="Who and where, most salient first.")
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    article_count: int
    articles: tuple[StoryArticle, ...] = Field(
        default=(), description="In time order (the first 500)."
    )
    merged_into: str | None = Field(default=None, description="Set when merged into another story.")
    updated_at: AwareDatetime

    def document(self) -> dict[str, Any]:
        data = self.model_dump(mode="python")
        data["_id"] = data.pop("id")
        return data

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> StoredStory:
        return cls.model_validate({**document, "id": document["_id"]})
