"""Request and response bodies of the HTTP API (v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from newswire_contracts import MAX_HTML_CHARS, MAX_TEXT_CHARS, InvalidURLError, canonicalize_url
from newswire_contracts.readmodel import StoredArticle
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

__all__ = ["Accepted", "Article", "EntityOut", "SubmitArticle"]


class SubmitArticle(BaseModel):
    """An article to ingest: inline text or HTML, or just a URL for ingest to fetch."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://news.example/2025/07/08/lavrov-north-korea",
                    "title": "Russian foreign minister to visit North Korea",
                    "text": "North Korea's official Korean Central News Agency said Lavrov ...",
                    "source": "Example News",
                    "published_at": "2025-07-08T09:00:00Z",
                }
            ]
        },
    )

    url: str = Field(max_length=2048, description="The article's URL (http or https).")
    title: str | None = Field(default=None, max_length=1000)
    text: str | None = Field(
        default=None,
        max_length=MAX_HTML_CHARS,
        description=f"Plain text; articles are cut to {MAX_TEXT_CHARS} characters (and say so).",
    )
    html: str | None = Field(
        default=None,
        max_length=MAX_HTML_CHARS,
        description="The page's HTML; text is extracted from it.",
    )
    source: str | None = Field(
        default=None, min_length=1, max_length=200, description="Outlet name."
    )
    published_at: AwareDatetime | None = Field(default=None, description="RFC 3339 with offset.")
    language: str | None = Field(
        default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="BCP 47 hint."
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        try:
            canonicalize_url(value)
        except InvalidURLError as exc:
            raise ValueError(str(exc)) from exc
        return value.strip()


class Accepted(BaseModel):
    id: str = Field(description="The article id; GET /v1/articles/{id} serves it once processed.")
    status: Literal["accepted"] = "accepted"


class EntityOut(BaseModel):
    name: str
    type: str
    count: int
    salience: float


class Article(BaseModel):
    """An article with its enrichment, as a reader's page needs it."""

    id: str
    url: str
    title: str
    source: str
    published_at: datetime | None
    ingested_at: datetime
    language: str | None
    language_confidence: float
    authors: list[str]
    image_url: str | None
    text: str
    text_truncated: bool
    word_count: int
    reading_time_minutes: int
    summary: str
    entities: list[EntityOut]
    keywords: list[str]
    story_id: str | None
    version: int
    enriched_at: datetime
    missing_enrichments: list[str] = Field(description="Enrichments that could not be applied.")

    @classmethod
    def from_stored(cls, stored: StoredArticle) -> Article:
        data = stored.model_dump(exclude={"related", "missing"})
        return cls.model_validate({**data, "missing_enrichments": list(stored.missing)})
