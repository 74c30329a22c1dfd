"""What the gateway's use cases and request handlers share: settings, the store's readers
and writers, the publisher, the live feed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from .adapters.articles import ArticleReader
from .adapters.comments import CommentStore
from .adapters.feeds import FeedRegistry
from .adapters.publisher import Publisher
from .adapters.stories import StoryReader
from .config import GatewaySettings
from .domain.ratelimit import RateLimiter
from .live import LiveFeed

__all__ = ["GatewayState"]


@dataclass(frozen=True)
class GatewayState:
    settings: GatewaySettings
    broker: KafkaBroker
    publisher: Publisher
    mongo: AsyncMongoClient[dict[str, Any]]
    articles: ArticleReader
    feeds: FeedRegistry
    stories: StoryReader
    comments: CommentStore
    comment_limiter: RateLimiter
    live: LiveFeed
