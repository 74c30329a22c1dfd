"""Newswire's public contracts: topics, events, CloudEvents and dead-letter headers, article ids.

Depends on pydantic only, so downstream consumers can install it alone.
"""

from . import cloudevents, dead_letters, topics
from .cloudevents import EventMeta, InvalidEventError, decode, derive_event_id, encode
from .events import (
    EVENT_TYPES,
    MAX_HTML_CHARS,
    MAX_TEXT_CHARS,
    ArticleEnriched,
    ArticleIngested,
    ArticleRelated,
    CommentPosted,
    Entity,
    Event,
    IngestArticle,
    IngestFeed,
    IngestRequest,
    RelatedArticle,
    StoryUpdated,
)
from .urls import InvalidURLError, article_id, canonicalize_url, feed_id

__all__ = [
    "EVENT_TYPES",
    "MAX_HTML_CHARS",
    "MAX_TEXT_CHARS",
    "ArticleEnriched",
    "ArticleIngested",
    "ArticleRelated",
    "CommentPosted",
    "Entity",
    "Event",
    "EventMeta",
    "IngestArticle",
    "IngestFeed",
    "IngestRequest",
    "InvalidEventError",
    "InvalidURLError",
    "RelatedArticle",
    "StoryUpdated",
    "article_id",
    "canonicalize_url",
    "cloudevents",
    "dead_letters",
    "decode",
    "derive_event_id",
    "encode",
    "feed_id",
    "topics",
]
