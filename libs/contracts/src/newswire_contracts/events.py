"""The events (and the one command) that travel between Newswire's services.

Validation policy, for producers and consumers alike:

* Types are strict: a JSON string is never coerced into a number, a number never into a
  string, and times must carry a UTC offset. A message that does not fit is a poison
  message and goes to the consumer's dead-letter topic.
* Unknown fields are ignored. Schemas evolve by adding optional fields (a breaking change
  is a new ``.v2`` type), so a consumer built against an older model must accept what a
  newer producer adds. Models are frozen: an event is a fact, not a mutable record.
* Sizes are bounded here, so a message that passes validation can be processed.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from . import topics
from .urls import canonicalize_url

__all__ = [
    "MAX_HTML_CHARS",
    "MAX_TEXT_CHARS",
    "ArticleEnriched",
    "ArticleFields",
    "ArticleId",
    "ArticleIngested",
    "ArticleRelated",
    "CommentPosted",
    "EnrichmentFields",
    "Entity",
    "Event",
    "FeedId",
    "IngestArticle",
    "IngestFeed",
    "IngestRequest",
    "RelatedArticle",
    "StoryUpdated",
]

MAX_TEXT_CHARS = 200_000
"""Article text beyond this is cut (and the event says so); about 30,000 words."""
MAX_HTML_CHARS = 2_000_000
"""HTML submitted inline for extraction; larger pages are refused."""

ArticleId = Annotated[
    str, Field(pattern=r"^[0-9a-f]{32}$", description="32 hex digits, see urls.article_id")
]
FeedId = Annotated[
    str, Field(pattern=r"^[0-9a-f]{32}$", description="32 hex digits, see urls.feed_id")
]
StoryId = Annotated[str, Field(pattern=r"^[0-9a-z_-]{1,64}$", description="Story identifier")]
LanguageCode = Annotated[
    str,
    Field(
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="BCP 47 language tag, e.g. 'en'"
    ),
]
Title = Annotated[str, Field(max_length=1_000)]
SourceName = Annotated[str, Field(min_length=1, max_length=200)]


# Every event validates its URLs, and relate's related lists carry the same few thousand
# again and again: canonicalising them anew was a tenth of relate's CPU. A failure is not
# cached (lru_cache keeps only results), so a bad URL is refused every time.
_canonical = lru_cache(maxsize=16_384)(canonicalize_url)


# canonicalize_url raises InvalidURLError, a ValueError: pydantic reports it as invalid input.
def _must_be_http_url(url: str) -> str:
    _canonical(url)
    return url


def _must_be_canonical(url: str) -> str:
    if (canonical := _canonical(url)) != url:
        raise ValueError(f"URL is not canonical; expected {canonical!r}")
    return url


CanonicalURL = Annotated[str, Field(max_length=2048), AfterValidator(_must_be_canonical)]
HttpURL = Annotated[str, Field(max_length=2048), AfterValidator(_must_be_http_url)]


class Event(BaseModel):
    """Base of every message on a Newswire topic.

    Subclasses name their CloudEvents ``type`` and their topic; the Kafka key is their ``id``
    unless they say otherwise (so all events about one article land in one partition, in
    order).
    """

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    event_type: ClassVar[str]
    topic: ClassVar[str]

    def key(self) -> str:
        """The Kafka message key for this event."""
        return str(getattr(self, "id"))  # noqa: B009 - the base declares no id


class IngestArticle(Event):
    """Command: ingest one article, given inline or to be fetched from its URL."""

    event_type: ClassVar[str] = "newswire.ingest.requested.v1"
    topic: ClassVar[str] = topics.INGEST_REQUESTS

    kind: Literal["article"] = Field(
        default="article", description="What to ingest; only single articles in v1."
    )
    url: HttpURL = Field(description="The article's URL as submitted (canonicalised by ingest).")
    title: Title | None = Field(default=None, description="Title, if the submitter knows it.")
    text: str | None = Field(
        default=None,
        max_length=MAX_HTML_CHARS,
        description=f"Plain article text, if known; ingest keeps the first {MAX_TEXT_CHARS} characters.",
    )
    html: str | None = Field(
        default=None,
        max_length=MAX_HTML_CHARS,
        description="The article's HTML page; the text is extracted from it when text is absent.",
    )
    source: SourceName | None = Field(
        default=None, description="The outlet's name; defaults to the URL's host."
    )
    published_at: AwareDatetime | None = Field(default=None, description="Publication time.")
    language: LanguageCode | None = Field(default=None, description="Language hint.")
    submitted_at: AwareDatetime = Field(description="When the gateway accepted the submission.")

    def key(self) -> str:
        return canonicalize_url(self.url)


class IngestFeed(Event):
    """Command: start or stop polling a feed (RSS, Atom or JSON Feed).

    Shares ``ingest.requests`` and its CloudEvents type with IngestArticle; ``kind`` tells
    them apart. Keyed by feed id, so all commands about one feed reach one ingest instance,
    the one that polls it.
    """

    event_type: ClassVar[str] = "newswire.ingest.requested.v1"
    topic: ClassVar[str] = topics.INGEST_REQUESTS

    kind: Literal["feed"] = Field(description="Marks a feed command.")
    action: Literal["subscribe", "unsubscribe"] = Field(description="Start or stop polling.")
    feed_id: FeedId = Field(description="See urls.feed_id.")
    url: HttpURL = Field(description="The feed's URL.")
    title: Title | None = Field(default=None, description="A name for the feed, if given.")
    poll_interval_seconds: int | None = Field(
        default=None, ge=60, le=7 * 86_400, description="Fixed poll interval; adaptive when absent."
    )
    requested_at: AwareDatetime = Field(description="When the gateway accepted the request.")

    def key(self) -> str:
        return self.feed_id


class IngestRequest:
    """What ``ingest.requests`` carries: an IngestArticle or an IngestFeed, by ``kind``.

    Quacks like an Event class for cloudevents.decode (type, topic, JSON validation);
    ``payload`` is the union, for schemas.
    """

    event_type: ClassVar[str] = "newswire.ingest.requested.v1"
    topic: ClassVar[str] = topics.INGEST_REQUESTS
    __name__ = "IngestRequest"
    payload: ClassVar[Any] = Annotated[IngestArticle | IngestFeed, Field(discriminator="kind")]
    _adapter: ClassVar[TypeAdapter[IngestArticle | IngestFeed]] = TypeAdapter(payload)

    @classmethod
    def model_validate_json(cls, value: bytes | str) -> IngestArticle | IngestFeed:
        return cls._adapter.validate_json(value)


class ArticleFields(BaseModel):
    """What every article event carries about the article itself."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    id: ArticleId = Field(description="Deterministic id derived from the canonical URL.")
    url: CanonicalURL = Field(description="Canonical URL of the article.")
    source: SourceName = Field(description="The outlet that published it.")
    title: Title = Field(description="Headline; may be empty when none could be found.")
    text: str = Field(max_length=MAX_TEXT_CHARS, description="Plain article text.")
    text_truncated: bool = Field(
        default=False, description=f"True when the text was cut to {MAX_TEXT_CHARS} characters."
    )
    published_at: AwareDatetime | None = Field(
        default=None, description="Publication time, when known."
    )
    ingested_at: AwareDatetime = Field(description="When ingest accepted this version.")
    first_ingested_at: AwareDatetime | None = Field(
        default=None,
        description="When ingest accepted the article's first version; absent from events "
        "made before the field existed (read ingested_at then).",
    )
    language_hint: LanguageCode | None = Field(
        default=None, description="Language declared by the submitter or the page."
    )
    authors: tuple[Annotated[str, Field(max_length=200)], ...] = Field(
        default=(), max_length=50, description="Bylines."
    )
    image_url: HttpURL | None = Field(default=None, description="Lead image.")
    content_hash: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of title and text; changes with the content.",
    )
    version: int = Field(
        default=1, ge=1, description="Raised each time ingest sees changed content at the URL."
    )
    aliases: tuple[ArticleId, ...] = Field(
        default=(),
        max_length=20,
        description="Ids of other URLs that lead to this article (e.g. the submitted URL when the "
        "page named another canonical URL); the gateway serves the article under them too.",
    )
    feed_id: FeedId | None = Field(default=None, description="The feed it came from, if any.")
    text_source: Literal["page", "feed", "submission"] | None = Field(
        default=None,
        description="Where the text comes from: the article's page, the feed's entry, or the "
        "submission itself; null in events from before this field.",
    )
    summary_only: bool = Field(
        default=False,
        description="True when the text is only what the feed gave (a summary, or nothing but "
        "the title) because the page could not be had: read the article at its URL. Ingest "
        "keeps trying the page; a later version carries its text.",
    )

    @property
    def taken_in(self) -> datetime:
        """When Newswire first took the article in: ``first_ingested_at``, else (events from
        before that field) this version's ``ingested_at``."""
        return self.first_ingested_at or self.ingested_at


class ArticleIngested(ArticleFields, Event):
    """An article was accepted and its text extracted."""

    event_type: ClassVar[str] = "newswire.article.ingested.v1"
    topic: ClassVar[str] = topics.ARTICLES_INGESTED


class Entity(BaseModel):
    """A named entity found in an article."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    name: str = Field(min_length=1, max_length=200, description="Normalised name.")
    type: str = Field(
        min_length=1, max_length=20, description="PERSON, ORG, GPE, LOC, NORP, EVENT, ..."
    )
    count: int = Field(ge=1, description="Mentions in the article.")
    salience: float = Field(default=0.0, ge=0.0, le=1.0, description="Importance, 0 to 1.")


class EnrichmentFields(BaseModel):
    """What enrich adds to an article. Every field has a default, so enrichers grow freely."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    language: LanguageCode | None = Field(default=None, description="Detected language.")
    language_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    word_count: int = Field(default=0, ge=0)
    reading_time_minutes: int = Field(default=0, ge=0, description="Rounded up; 0 for no text.")
    entities: tuple[Entity, ...] = Field(default=(), max_length=500)
    keywords: tuple[Annotated[str, Field(max_length=100)], ...] = Field(default=(), max_length=50)
    summary: str = Field(
        default="", max_length=5_000, description="Up to three sentences, extracted."
    )
    key_points: tuple[Annotated[str, Field(max_length=1_000)], ...] = Field(
        default=(), max_length=5, description="Key sentences beyond the summary, in article order."
    )
    enriched_at: AwareDatetime = Field(description="When enrich produced this result.")
    missing: tuple[str, ...] = Field(
        default=(),
        description="Enrichments that could not be applied, e.g. 'entities' for an unsupported language.",
    )
    flags: tuple[str, ...] = Field(
        default=(),
        description="What a reader should know about the analysis: too_short, "
        "text_cut_for_analysis, markup_removed, no_prose, uncertain_language.",
    )
    entity_model: str | None = Field(default=None, description="The model that found the entities.")


class ArticleEnriched(EnrichmentFields, ArticleFields, Event):
    """An article with language, counts and (as enrich grows) entities, keywords, summary."""

    event_type: ClassVar[str] = "newswire.article.enriched.v1"
    topic: ClassVar[str] = topics.ARTICLES_ENRICHED


class RelatedArticle(BaseModel):
    """One entry of an article's related list."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    id: ArticleId
    title: Title
    url: CanonicalURL
    source: SourceName
    published_at: AwareDatetime | None = None
    score: float = Field(ge=0.0, le=1.0, description="Relatedness, best is 1.")
    relation: Literal["related", "duplicate"] = "related"
    shared_entities: tuple[str, ...] = Field(default=(), description="Why: entities in common.")
    same_story: bool | None = Field(
        default=None,
        description="True when it is in the same story as the article (the same event); "
        "false when it is background (related, another event). Absent from older events.",
    )


class ArticleRelated(Event):
    """An article's related list or story changed (or it was stored for the first time)."""

    event_type: ClassVar[str] = "newswire.article.related.v1"
    topic: ClassVar[str] = topics.ARTICLES_RELATED

    id: ArticleId
    version: int = Field(ge=1, description="The article version the relations were computed for.")
    story_id: StoryId | None = Field(default=None, description="The story it belongs to.")
    related: tuple[RelatedArticle, ...] = Field(
        default=(), max_length=100, description="Best first."
    )
    duplicate_of: ArticleId | None = Field(
        default=None, description="The earliest article this one is a near-copy of (syndication)."
    )
    updated_at: AwareDatetime


class StoryUpdated(Event):
    """A story (the articles of every outlet about one event) was created or changed."""

    event_type: ClassVar[str] = "newswire.story.updated.v1"
    topic: ClassVar[str] = topics.STORIES_UPDATED

    id: StoryId
    title: Title = Field(description="Its most representative headline.")
    summary: str = Field(
        default="", max_length=1_000, description="A short summary: the representative article's."
    )
    entities: tuple[str, ...] = Field(default=(), max_length=50)
    people: tuple[str, ...] = Field(default=(), max_length=50, description="Its top people.")
    places: tuple[str, ...] = Field(default=(), max_length=50, description="Its top places.")
    organisations: tuple[str, ...] = Field(
        default=(), max_length=50, description="Its top organisations."
    )
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    article_count: int = Field(ge=0)
    article_ids: tuple[ArticleId, ...] = Field(
        default=(), max_length=10_000, description="In time order."
    )
    merged_into: StoryId | None = Field(
        default=None,
        description="Set when this story was found to be part of another: read that one.",
    )
    updated_at: AwareDatetime


class CommentPosted(Event):
    """A reader posted a comment on an article."""

    event_type: ClassVar[str] = "newswire.comment.posted.v1"
    topic: ClassVar[str] = topics.COMMENTS_POSTED

    id: str = Field(min_length=1, max_length=64)
    article_id: ArticleId
    author: str = Field(min_length=1, max_length=80)
    body: str = Field(min_length=1, max_length=5_000)
    posted_at: AwareDatetime

    def key(self) -> str:
        return self.article_id


EVENT_TYPES: dict[str, type[Event] | type[IngestRequest]] = {
    model.event_type: model
    for model in (
        IngestRequest,
        ArticleIngested,
        ArticleEnriched,
        ArticleRelated,
        StoryUpdated,
        CommentPosted,
    )
}
"""What to validate a message of each CloudEvents type with."""
