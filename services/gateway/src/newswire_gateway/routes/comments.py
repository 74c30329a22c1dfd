"""/v1/articles/{id}/comments: readers post without a key; operators hide or delete."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Annotated

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Path, Query, Request, Response
from newswire_contracts import CommentPosted
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pymongo.errors import PyMongoError

from newswire_gateway.comments import Comment
from newswire_gateway.deps import State, WriteAccess
from newswire_gateway.problems import ProblemError, problem_responses

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/articles/{article_id}/comments", tags=["comments"])

ArticleIdPath = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Article id")]
CommentIdPath = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Comment id")]


class NewComment(BaseModel):
    """Plain text; shown escaped everywhere."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"author": "Ann", "body": "Good read."}]}
    )

    author: str = Field(min_length=1, max_length=80)
    body: str = Field(min_length=1, max_length=5_000)

    @field_validator("author", "body")
    @classmethod
    def _printable(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
            raise ValueError("must not contain control characters")
        return value


class CommentVisibility(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hidden: bool


class CommentList(BaseModel):
    items: list[Comment] = Field(description="Oldest first.")


def _client(request: Request, trust_forwarded_for: bool) -> str:
    if trust_forwarded_for and (forwarded := request.headers.get("x-forwarded-for")):
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


async def _existing_article(state: State, article_id: str) -> None:
    try:
        found = await state.articles.get(article_id)
    except PyMongoError as exc:
        raise ProblemError(
            503, "the store is unavailable; retry shortly", headers={"Retry-After": "5"}
        ) from exc
    if found is None:
        raise ProblemError(404, f"no article {article_id}")


@router.get("", responses=problem_responses(404, 422))
async def list_comments(
    article_id: ArticleIdPath, state: State, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> CommentList:
    """The article's visible comments, oldest first."""
    await _existing_article(state, article_id)
    return CommentList(items=await state.comments.list(article_id, limit=limit))


@router.post("", status_code=201, responses=problem_responses(404, 413, 422, 429, 503))
async def post_comment(
    article_id: ArticleIdPath, body: NewComment, state: State, request: Request
) -> Comment:
    """Post a comment as a reader (no key; a few a minute per client)."""
    wait = state.comment_limiter.take(_client(request, state.settings.trust_forwarded_for))
    if wait > 0:
        raise ProblemError(
            429,
            f"too many comments from this client; try again in {math.ceil(wait)} s",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    await _existing_article(state, article_id)
    comment = await state.comments.post(
        article_id, author=body.author, body=body.body, now=datetime.now(UTC)
    )
    try:
        await state.publisher.publish(
            CommentPosted(
                id=comment.id,
                article_id=article_id,
                author=comment.author,
                body=comment.body,
                posted_at=comment.posted_at,
            )
        )
    except KafkaError:
        # The comment is stored and shown; only downstream consumers miss this one event.
        log.exception(
            "comments.posted not published",
            extra={"article_id": article_id, "comment_id": comment.id},
        )
    return comment


@router.patch(
    "/{comment_id}", dependencies=[WriteAccess], responses=problem_responses(401, 404, 422)
)
async def set_visibility(
    article_id: ArticleIdPath, comment_id: CommentIdPath, body: CommentVisibility, state: State
) -> Comment:
    """Hide (or show again) a comment: operators only."""
    comment = await state.comments.set_hidden(article_id, comment_id, body.hidden)
    if comment is None:
        raise ProblemError(404, f"no comment {comment_id} on article {article_id}")
    return comment


@router.delete(
    "/{comment_id}",
    status_code=204,
    dependencies=[WriteAccess],
    responses=problem_responses(401, 404),
)
async def delete_comment(
    article_id: ArticleIdPath, comment_id: CommentIdPath, state: State
) -> Response:
    """Delete a comment for good: operators only."""
    if not await state.comments.delete(article_id, comment_id):
        raise ProblemError(404, f"no comment {comment_id} on article {article_id}")
    return Response(status_code=204)
