"""/v1/stories: stories (every outlet's article about one event) as relate groups them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from newswire_gateway import stories
from newswire_gateway.deps import State
from newswire_gateway.http_cache import cached_json
from newswire_gateway.problems import problem_responses
from newswire_gateway.schemas import Story, StoryList

router = APIRouter(prefix="/v1/stories", tags=["stories"])

StoryIdPath = Annotated[str, Path(pattern=r"^[0-9a-z_-]{1,64}$", description="Story id")]


@router.get("", responses=problem_responses(422, 503))
async def list_stories(
    state: State,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
) -> StoryList:
    """The latest stories, by their newest article, newest first."""
    page = await stories.latest(state, limit, cursor)
    return StoryList(items=[Story.from_stored(s) for s in page.items], next_cursor=page.next_cursor)


@router.get("/{story_id}", response_model=Story, responses=problem_responses(404, 422, 503))
async def get_story(story_id: StoryIdPath, state: State, request: Request) -> Response:
    """One story with its articles in time order (a merged story answers with the one it joined)."""
    return cached_json(request, Story.from_stored(await stories.read(state, story_id)))
