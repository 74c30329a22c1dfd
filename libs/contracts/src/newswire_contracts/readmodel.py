"""The article read model: the MongoDB document relate writes and the gateway serves.

relate owns the ``articles`` collection (it alone writes it); the gateway only reads it.
Documents are keyed by the article id (``_id``), the one lookup every MongoDB-wire store
answers from an index.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, ConfigDict, Field

from .events import ArticleEnriched, ArticleFields, EnrichmentFields, RelatedArticle

__all__ = ["ARTICLES_COLLECTION", "StoredArticle", "article_document"]

ARTICLES_COLLECTION = "articles"


class StoredArticle(EnrichmentFields, ArticleFields):
    """An article as stored and served: its content, enrichment and relations."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=False)

    story_id: str | None = Field(default=None, description="The story this article belongs to.")
    related: tuple[RelatedArticle, ...] = Field(default=(), description="Best first.")
    stored_at: AwareDatetime = Field(description="When relate last wrote this article.")

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> StoredArticle:
        return cls.model_validate({**document, "id": document["_id"]})


def article_document(article: ArticleEnriched) -> dict[str, Any]:
    """The fields of an enriched article as stored, without ``_id`` and relations."""
    fields = set(ArticleFields.model_fields) | set(EnrichmentFields.model_fields)
    document = article.model_dump(mode="python", include=fields)
    document.pop("id")
    return document
