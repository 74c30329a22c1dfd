"""/v1/articles/{id}/comments: readers post without a key; operators hide or delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from newswire_gateway import comments
from newswire_gateway.deps import Client, JsonBody, State, WriteAccess
from newswire_gateway.domain.models import Comment
from newswire_gateway.fields import HEX_ID_PATTERN
from newswire_gateway.problems import problem_responses
from newswire_gateway.routing import links, operation_id
from newswire_gateway.schemas import CommentList, CommentVisibility, NewComment

router = APIRouter(
    prefix="/v1/articles/{article_id}/comments",
    tags=["comments"],
    generate_unique_id_function=operation_id,
)

ArticleIdPath = Annotated[str, Path(pattern=HEX_ID_PATTERN, description="Article id")]
CommentIdPath = Annotated[str, Path(pattern=HEX_ID_PATTERN, description="Comment id")]


def _moderation(comment_id: str) -> dict[str, dict[str, object]]:
    return links(
        "set_visibility",
        "delete_comment",
        article_id="$request.path.article_id",
        comment_id=comment_id,
    )


@router.get(
    "",
    responses={
        200: {"description": "The comments.", "links": _moderation("$response.body#/items/0/id")},
        **problem_responses(404, 422, 503),
    },
)
async def list_comments(
    article_id: ArticleIdPath, state: State, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> CommentList:
    """The article's visible comments, oldest first."""
    return CommentList(items=await comments.listing(state, article_id, limit))


@router.post(
    "",
    status_code=201,
    dependencies=[JsonBody],
    responses={
        201: {"description": "Posted.", "links": _moderation("$response.body#/id")},
        **problem_responses(400, 404, 413, 415, 422, 429, 503),
    },
)
async def post_comment(
    article_id: ArticleIdPath, body: NewComment, state: State, client: Client
) -> Comment:
    """Post a comment as a reader (no key; a few a minute per client)."""
    return await comments.post(state, article_id, body.author, body.body, client=client)


@router.patch(
    "/{comment_id}",
    dependencies=[WriteAccess, JsonBody],
    responses=problem_responses(400, 401, 404, 413, 415, 422, 503),
)
async def set_visibility(
    article_id: ArticleIdPath, comment_id: CommentIdPath, body: CommentVisibility, state: State
) -> Comment:
    """Hide (or show again) a comment: operators only."""
    return await comments.set_hidden(state, article_id, comment_id, body.hidden)


@router.delete(
    "/{comment_id}",
    status_code=204,
    dependencies=[WriteAccess],
    responses={204: {"description": "Deleted."}, **problem_responses(401, 404, 422, 503)},
)
async def delete_comment(
    article_id: ArticleIdPath, comment_id: CommentIdPath, state: State
) -> Response:
    """Delete a comment for good: operators only."""
    await comments.delete(state, article_id, comment_id)
    return Response(status_code=204)
