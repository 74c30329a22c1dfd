"""/v1/stories: stories (every outlet's article about one event) as relate groups them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from newswire_gateway import stories
from newswire_gateway.deps import State
from newswire_gateway.fields import STORY_ID_PATTERN, CursorParam
from newswire_gateway.http_cache import ETAG_HEADERS, IF_NONE_MATCH, NOT_MODIFIED, cached_json
from newswire_gateway.problems import problem_responses
from newswire_gateway.routing import links, operation_id
from newswire_gateway.schemas import Story, StoryList

router = APIRouter(prefix="/v1/stories", tags=["stories"], generate_unique_id_function=operation_id)

StoryIdPath = Annotated[str, Path(pattern=STORY_ID_PATTERN, description="Story id")]


_ARTICLE_READS = ("get_article", "get_related", "list_comments", "post_comment")


@router.get(
    "",
    responses={
        200: {
            "description": "A page of stories.",
            "links": {
                **links("get_story", story_id="$response.body#/items/0/id"),
                # From a story to its first article.
                **links(*_ARTICLE_READS, article_id="$response.body#/items/0/articles/0/id"),
            },
        },
        **problem_responses(422, 503),
    },
)
async def list_stories(
    state: State,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: CursorParam = None,
) -> StoryList:
    """The latest stories, by their newest article, newest first."""
    page = await stories.latest(state, limit, cursor)
    return StoryList(items=[Story.from_stored(s) for s in page.items], next_cursor=page.next_cursor)


@router.get(
    "/{story_id}",
    response_model=Story,
    responses={
        200: {
            "headers": ETAG_HEADERS,
            "links": links(*_ARTICLE_READS, article_id="$response.body#/articles/0/id"),
        },
        **NOT_MODIFIED,
        **problem_responses(404, 422, 503),
    },
    openapi_extra={"parameters": [IF_NONE_MATCH]},
)
async def get_story(story_id: StoryIdPath, state: State, request: Request) -> Response:
    """One story with its articles in time order (a merged story answers with the one it joined)."""
    return cached_json(request, Story.from_stored(await stories.read(state, story_id)))
