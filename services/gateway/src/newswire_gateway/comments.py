"""Reader comments: posted by anyone (a few a minute per client), moderated by operators."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from newswire_contracts import CommentPosted

from .adapters.publisher import EventLogUnavailable
from .domain.errors import NotFound, RateLimited
from .domain.models import Comment
from .state import GatewayState

__all__ = ["delete", "listing", "post", "set_hidden"]

log = logging.getLogger(__name__)


async def post(
    gateway: GatewayState, article_id: str, author: str, body: str, *, client: str
) -> Comment:
    """Store the comment and announce it on comments.posted, within the client's rate."""
    wait = gateway.comment_limiter.take(client)
    if wait > 0:
        seconds = math.ceil(wait)
        raise RateLimited(f"too many comments from this client; try again in {seconds} s", seconds)
    await _existing_article(gateway, article_id)
    comment = await gateway.comments.post(
        article_id, author=author, body=body, now=datetime.now(UTC)
    )
    try:
        await gateway.publisher.publish(CommentPosted(**comment.model_dump()))
    except EventLogUnavailable:
        # The comment is stored and shown; only downstream consumers miss this one event.
        log.exception(
            "comments.posted not published",
            extra={"article_id": article_id, "comment_id": comment.id},
        )
    return comment


async def listing(gateway: GatewayState, article_id: str, limit: int) -> list[Comment]:
    """The article's latest visible comments, oldest first."""
    await _existing_article(gateway, article_id)
    return await gateway.comments.list(article_id, limit=limit)


async def set_hidden(
    gateway: GatewayState, article_id: str, comment_id: str, hidden: bool
) -> Comment:
    comment = await gateway.comments.set_hidden(article_id, comment_id, hidden)
    if comment is None:
        raise _no_comment(article_id, comment_id)
    return comment


async def delete(gateway: GatewayState, article_id: str, comment_id: str) -> None:
    if not await gateway.comments.delete(article_id, comment_id):
        raise _no_comment(article_id, comment_id)


async def _existing_article(gateway: GatewayState, article_id: str) -> None:
    if await gateway.articles.get(article_id) is None:
        raise NotFound("article", f"no article {article_id}")


def _no_comment(article_id: str, comment_id: str) -> NotFound:
    return NotFound("comment", f"no comment {comment_id} on article {article_id}")
