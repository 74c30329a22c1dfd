"""Articles: submitted for ingest, read back by id, listed and searched a page at a time."""

from __future__ import annotations

import logging

from newswire_contracts import IngestArticle, article_id, canonicalize_url
from newswire_contracts.readmodel import StoredArticle

from .domain.errors import NotFound
from .domain.models import ArticleQuery, ListedArticle
from .domain.paging import Page, page_of, position_of
from .state import GatewayState

__all__ = ["listing", "read", "submit"]

log = logging.getLogger(__name__)


async def submit(gateway: GatewayState, command: IngestArticle) -> str:
    """Hand the article to ingest; the id it will be readable at."""
    event_id = await gateway.publisher.publish(command)
    identifier = article_id(canonicalize_url(command.url))
    log.info("article submitted", extra={"article_id": identifier, "event_id": event_id})
    return identifier


async def read(gateway: GatewayState, identifier: str) -> StoredArticle:
    """The article (or the one its id is an alias of), once processed."""
    found = await gateway.articles.get(identifier)
    if found is None:
        raise NotFound("article", f"no article {identifier} (yet): it may still be in processing")
    return found


async def listing(
    gateway: GatewayState, query: ArticleQuery, limit: int, cursor: str | None
) -> Page[ListedArticle]:
    """A page of the articles ``query`` matches, newest first, after the cursor's position."""
    found = await gateway.articles.list(query, limit + 1, position_of(cursor))
    return page_of(found, limit, lambda article: (article.sort_time, article.id))
