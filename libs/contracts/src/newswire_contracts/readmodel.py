"""Read models shared between services through MongoDB: who writes what, who reads it.

- ``articles``: written by relate, served by the gateway (StoredArticle), with the story and
  duplicate fields the listings filter on.
- ``article_relations``: written by relate: ``{_id: article id, version, related, story_id,
  duplicate_of, stored_at}``. An article's related list changes whenever a neighbour
  arrives; kept apart, each such change rewrites a small document, not the article (on
  FerretDB a rewrite costs in proportion to the document's fields). Readers join the two by
  ``_id`` (``joined_article``); an article stored before this split has none and keeps its
  own ``related``.
- ``article_aliases``: written by relate: ``{_id: other id, article_id: id}`` for every URL
  that leads to an article stored under another (canonical) URL.
- ``feed_status``: written by ingest, served by the gateway (FeedStatus).
- ``stories``: written by relate, served by the gateway (StoredStory).

Documents are keyed by id (``_id``), the one lookup every MongoDB-wire store answers from
an index. Writers may store more fields than these models name; readers ignore the rest.
"""

from __future__ import annotations

import itertools
import re
from typing import Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .events import ArticleEnriched, ArticleFields, EnrichmentFields, RelatedArticle

__all__ = [
    "ALIASES_COLLECTION",
    "ARTICLES_COLLECTION",
    "FEED_STATUS_COLLECTION",
    "LISTING_INDEXES",
    "RELATIONS_COLLECTION",
    "STORIES_COLLECTION",
    "FeedStatus",
    "StoredArticle",
    "StoredModel",
    "StoredStory",
    "StoryArticle",
    "article_document",
    "joined_article",
    "search_terms",
    "search_terms_of",
]

ARTICLES_COLLECTION = "articles"
ALIASES_COLLECTION = "article_aliases"
FEED_STATUS_COLLECTION = "feed_status"
STORIES_COLLECTION = "stories"
RELATIONS_COLLECTION = "article_relations"


class StoredModel(BaseModel):
    """A model of a stored document, whose ``_id`` is the model's ``id``."""

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Self:
        # Lax: BSON gives lists where the (strict) event models have tuples.
        return cls.model_validate({**document, "id": document["_id"]}, strict=False)

    def document(self) -> dict[str, Any]:
        """The model as stored: its fields, with ``id`` as ``_id``."""
        document = self.model_dump(mode="python")
        document["_id"] = document.pop("id")
        return document


class StoredArticle(EnrichmentFields, ArticleFields, StoredModel):
    """An article as stored and served: its content, enrichment and relations."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=False)

    story_id: str | None = Field(default=None, description="The story this article belongs to.")
    related: tuple[RelatedArticle, ...] = Field(default=(), description="Best first.")
    duplicate_of: str | None = Field(
        default=None, description="The earliest article it is a near-copy of."
    )
    stored_at: AwareDatetime = Field(description="When relate last wrote this article.")


def article_document(article: ArticleEnriched) -> dict[str, Any]:
    """The fields of an enriched article as stored, without ``_id`` and relations, plus the
    fields the listing and search queries use (see LISTING_INDEXES)."""
    fields = set(ArticleFields.model_fields) | set(EnrichmentFields.model_fields)
    document = article.model_dump(mode="python", include=fields)
    document.pop("id")
    document["sort_time"] = article.published_at or article.ingested_at
    document["entity_names"] = sorted({e.name.casefold() for e in article.entities})
    document["search_terms"] = search_terms_of(
        " ".join(
            [
                article.title,
                article.summary,
                " ".join(article.keywords),
                " ".join(e.name for e in article.entities),
            ]
        ),
        article.text,
    )
    return document


def joined_article(article: dict[str, Any], relations: dict[str, Any] | None) -> dict[str, Any]:
    """An article document with its relations document: the related list from the latter,
    and the later of the two write times. The story and duplicate fields are the article's,
    as the listings see them."""
    if relations is None:
        return article
    joined = {**article, "related": relations.get("related", [])}
    times = [t for t in (article.get("stored_at"), relations.get("stored_at")) if t is not None]
    if times:
        joined["stored_at"] = max(times)
    return joined


LISTING_INDEXES: dict[str, list[tuple[str, int]]] = {
    "newest_first": [("sort_time", -1), ("_id", -1)],
    "by_source": [("source", 1), ("sort_time", -1), ("_id", -1)],
    "by_language": [("language", 1), ("sort_time", -1), ("_id", -1)],
    "by_entity": [("entity_names", 1), ("sort_time", -1), ("_id", -1)],
    "by_term": [("search_terms", 1), ("sort_time", -1), ("_id", -1)],
}
"""MongoDB indexes on ``articles`` serving GET /v1/articles: newest first (keyset on
sort_time, _id), optionally filtered by source, language, an entity or a search term (the
last two are multikey). On FerretDB 1.24 they exist but queries scan."""

SEARCH_TEXT_WORDS = 300
MAX_SEARCH_TERMS = 400
_TOKEN = re.compile(r"[^\W_]{2,}")
_STOPWORD_TEXT = (
    "the and for are but not you all any can her was one our out day get has him his how man new now old see "
    "two way who boy did its let put say she too use that with have this will your from they know want been "
    "good much some time very when come here just like long make many more only over such take than them well "
    "were what said would could their there about which after other into also"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def search_terms(text: str) -> list[str]:
    """The words of a search query, as articles are indexed: case-folded, no stop words."""
    return list(
        dict.fromkeys(
            w for w in (m.group(0).casefold() for m in _TOKEN.finditer(text)) if w not in _STOPWORDS
        )
    )


def search_terms_of(heading: str, body: str) -> list[str]:
    """What an article is found by: every word of its title, summary, keywords and entity
    names, then the words of its first SEARCH_TEXT_WORDS words of text, up to a bound."""
    words = search_terms(heading)
    seen = set(words)
    for match in itertools.islice(_TOKEN.finditer(body), SEARCH_TEXT_WORDS):
        word = match.group(0).casefold()
        if word not in seen and word not in _STOPWORDS:
            seen.add(word)
            words.append(word)
    return words[:MAX_SEARCH_TERMS]


class FeedStatus(StoredModel):
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
    last_error_step: str | None = Field(
        default=None,
        description="The step of the poll that failed: fetch, parse, entries, pages, record or "
        "poll (anything else); null after a success.",
    )
    error_count: int = Field(default=0, description="Consecutive failed polls.")
    entries_seen: int = Field(default=0, description="Entries read, over all polls.")
    articles_published: int = Field(
        default=0, description="New articles and new versions published."
    )
    last_entry_error: str | None = Field(
        default=None, description="The last entry that could not be ingested."
    )
    pages_pending: int = Field(
        default=0,
        description="Entries published with the feed's text whose page is still being retried.",
    )
    next_fetch_at: AwareDatetime = Field(description="When the feed is next polled.")
    interval_seconds: int = Field(description="Poll interval in force (adaptive unless fixed).")
    warnings: tuple[str, ...] = Field(
        default=(), description="E.g. malformed XML that could be read anyway."
    )
    feed_title: str | None = Field(default=None, description="The title the feed gives itself.")
    site_url: str | None = None


class StoryArticle(BaseModel):
    """An article as a story lists it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    title: str
    url: str
    source: str
    published_at: AwareDatetime | None = None


class StoredStory(StoredModel):
    """A story: every outlet's article about one event, in time order."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(description="The id of its earliest article (by time, then id).")
    title: str = Field(
        description="Its most representative headline (the article nearest the story's centroid)."
    )
    summary: str = Field(default="", description="A short summary: the representative article's.")
    entities: tuple[str, ...] = Field(default=(), description="Who and where, most salient first.")
    people: tuple[str, ...] = Field(default=(), description="Its top people.")
    places: tuple[str, ...] = Field(default=(), description="Its top places.")
    organisations: tuple[str, ...] = Field(default=(), description="Its top organisations.")
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    article_count: int
    articles: tuple[StoryArticle, ...] = Field(
        default=(), description="Its timeline: the articles in time order (the first 500)."
    )
    merged_into: str | None = Field(default=None, description="Set when merged into another story.")
    updated_at: AwareDatetime
