"""What the gateway's request handlers share: settings, the publisher, the store readers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from newswire_platform import EventPublisher
from pymongo import AsyncMongoClient

from .comments import CommentStore
from .config import GatewaySettings
from .live import LiveFeed
from .ratelimit import RateLimiter
from .store import ArticleReader, FeedRegistry, StoryReader

__all__ = ["GatewayState"]


@dataclass(frozen=True)
class GatewayState:
    settings: GatewaySettings
    broker: KafkaBroker
    publisher: EventPublisher
    mongo: AsyncMongoClient[dict[str, Any]]
    articles: ArticleReader
    feeds: FeedRegistry
    stories: StoryReader
    comments: CommentStore
    comment_limiter: RateLimiter
    live: LiveFeed
