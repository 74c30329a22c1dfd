"""Request and response bodies of the HTTP API (v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from newswire_contracts import MAX_HTML_CHARS, MAX_TEXT_CHARS
from newswire_contracts.readmodel import FeedStatus, StoredArticle, StoredStory
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
)

from .domain.models import Comment, FeedRegistration, ListedArticle
from .fields import (
    CONTROL_CHARACTERS,
    CommentText,
    Cursor,
    FeedUrlText,
    HexId,
    HttpUrlText,
    PollInterval,
    Rfc3339,
    StoryId,
)

__all__ = [
    "Accepted",
    "Article",
    "ArticleList",
    "ArticleSummary",
    "CommentList",
    "CommentVisibility",
    "EntityOut",
    "Feed",
    "FeedList",
    "FeedStatusOut",
    "NewComment",
    "RegisterFeed",
    "SubmitArticle",
]


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

    url: HttpUrlText = Field(description="The article's URL (http or https).")
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
    published_at: Rfc3339 | None = Field(default=None, description="RFC 3339 with offset.")
    language: str | None = Field(
        default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="BCP 47 hint."
    )


class Accepted(BaseModel):
    id: HexId = Field(description="The article id; GET /v1/articles/{id} serves it once processed.")
    status: Literal["accepted"] = "accepted"


class EntityOut(BaseModel):
    name: str
    type: str
    count: int
    salience: float


class _ArticleHead(BaseModel):
    # What an article and its summary in a listing start with (in this order).
    id: HexId
    url: str
    title: str
    source: str
    published_at: datetime | None
    ingested_at: datetime
    language: str | None


class Article(_ArticleHead):
    """An article with its enrichment, as a reader's page needs it."""

    language_confidence: float
    authors: list[str]
    image_url: str | None
    text: str
    text_truncated: bool
    text_source: Literal["page", "feed", "submission"] | None = Field(
        description="Where the text comes from: the article's page, its feed's entry, or the "
        "submission; null for articles ingested before this was recorded."
    )
    summary_only: bool = Field(
        description="The text is only what the feed gave (its page could not be had yet): "
        "read the article at url. A later version carries the page's text when it comes."
    )
    word_count: int
    reading_time_minutes: int
    summary: str
    key_points: list[str]
    entities: list[EntityOut]
    keywords: list[str]
    story_id: StoryId | None
    duplicate_of: HexId | None = Field(
        description="The earliest article this one is a near-copy of."
    )
    version: int
    enriched_at: datetime
    missing_enrichments: list[str] = Field(description="Enrichments that could not be applied.")
    flags: list[str] = Field(
        description="too_short, text_cut_for_analysis, markup_removed, no_prose, ..."
    )

    @classmethod
    def from_stored(cls, stored: StoredArticle) -> Article:
        data = stored.model_dump(exclude={"related", "missing"})
        return cls.model_validate({**data, "missing_enrichments": list(stored.missing)})


class RegisterFeed(BaseModel):
    """A feed to poll: RSS 0.9x/1.0/2.0, Atom or JSON Feed."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"url": "https://news.example/world/rss", "title": "Example News: World"}]
        },
    )

    url: FeedUrlText = Field(description="The feed's URL (http or https).")
    title: str | None = Field(
        default=None, max_length=200, description="A name for it; the feed's own otherwise."
    )
    poll_interval_seconds: PollInterval | None = Field(
        default=None, description="Fixed interval in seconds; adapts to the feed when absent."
    )


class FeedStatusOut(BaseModel):
    state: Literal["pending", "ok", "failing"] = Field(
        description="pending until the first poll; failing after a failed poll."
    )
    last_fetch_at: datetime | None = None
    last_success_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    last_error_step: str | None = Field(
        default=None, description="fetch, parse, entries, pages, record or poll."
    )
    error_count: int = 0
    entries_seen: int = 0
    articles_published: int = 0
    last_entry_error: str | None = None
    pages_pending: int = Field(
        default=0, description="Entries published with the feed's text whose page is retried."
    )
    next_fetch_at: datetime | None = None
    interval_seconds: int | None = None
    warnings: list[str] = Field(default_factory=list)
    feed_title: str | None = None
    site_url: str | None = None


class Feed(BaseModel):
    id: HexId
    url: str
    title: str | None
    poll_interval_seconds: int | None
    created_at: datetime
    status: FeedStatusOut

    @classmethod
    def build(cls, registration: FeedRegistration, status: FeedStatus | None) -> Feed:
        if status is None or status.last_fetch_at is None:
            out = FeedStatusOut(
                state="pending", next_fetch_at=status.next_fetch_at if status else None
            )
        else:
            out = FeedStatusOut(
                state="failing" if status.error_count else "ok",
                **status.model_dump(exclude={"id", "url"}),
            )
        return cls.model_validate({**registration.model_dump(), "status": out})


class FeedList(BaseModel):
    items: list[Feed]
    next_cursor: Cursor | None


class StoryArticleOut(BaseModel):
    id: HexId
    title: str
    url: str
    source: str
    published_at: datetime | None


class RelatedItem(StoryArticleOut):
    # An article as lists name it, and why it is related.
    score: float = Field(description="Relatedness, 0 to 1, best first.")
    relation: Literal["related", "duplicate"] = Field(
        description="duplicate: a near-copy of the same text."
    )
    shared_entities: list[str] = Field(
        description="Why: the people, places and organisations in common."
    )
    same_story: bool | None = Field(
        default=None,
        description="True: in the same story as the article (the same event); false: "
        "background (related, another event); null: not known yet.",
    )


class RelatedList(BaseModel):
    items: list[RelatedItem]


class Story(BaseModel):
    """Every outlet's article about one event."""

    id: StoryId = Field(description="The id of its earliest article.")
    title: str = Field(description="Its most representative headline.")
    summary: str = Field(default="", description="A short summary of the story.")
    entities: list[str]
    people: list[str] = Field(default_factory=list, description="Its top people.")
    places: list[str] = Field(default_factory=list, description="Its top places.")
    organisations: list[str] = Field(default_factory=list, description="Its top organisations.")
    first_seen: datetime
    last_seen: datetime
    article_count: int = Field(description="Its size, in articles.")
    articles: list[StoryArticleOut] = Field(description="Its timeline: the articles in time order.")

    @classmethod
    def from_stored(cls, story: StoredStory) -> Story:
        return cls.model_validate(story.model_dump(exclude={"merged_into", "updated_at"}))


class StoryList(BaseModel):
    items: list[Story] = Field(description="Newest first; each with its first five articles.")
    next_cursor: Cursor | None


class ArticleSummary(_ArticleHead):
    """An article in a listing: everything but its text and relations."""

    summary: str
    keywords: list[str]
    entities: list[EntityOut] = Field(description="The five most salient.")
    story_id: StoryId | None

    @classmethod
    def from_listed(cls, article: ListedArticle) -> ArticleSummary:
        listed = article.model_dump()
        return cls.model_validate({**listed, "entities": listed["entities"][:5]})


class ArticleList(BaseModel):
    items: list[ArticleSummary] = Field(description="Newest first.")
    next_cursor: Cursor | None


class NewComment(BaseModel):
    """Plain text; shown escaped everywhere."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"author": "Ann", "body": "Good read."}]}
    )

    author: CommentText = Field(max_length=80)
    body: CommentText = Field(max_length=5_000)

    @field_validator("author", "body")
    @classmethod
    def _printable(cls, value: str) -> str:
        if CONTROL_CHARACTERS.search(value):
            raise ValueError("must not contain control characters (but tab and line breaks)")
        # Browsers send a textarea's line breaks as CRLF.
        value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        if not value:
            raise ValueError("must not be blank")
        return value


class CommentVisibility(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"hidden": True}]})

    hidden: StrictBool = Field(description="true or false (not 0 or 1).")


class CommentList(BaseModel):
    items: list[Comment] = Field(description="Oldest first.")
