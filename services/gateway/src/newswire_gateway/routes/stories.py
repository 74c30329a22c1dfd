"""/v1/stories: stories (every outlet's article about one event) as relate groups them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pymongo.errors import PyMongoError

from newswire_gateway.cursors import decode_cursor, encode_cursor
from newswire_gateway.deps import State
from newswire_gateway.http_cache import cached_json
from newswire_gateway.problems import ProblemError, problem_responses
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
    before = None
    if cursor is not None:
        last_seen, story_id = decode_cursor(cursor)
        try:
            before = (datetime.fromisoformat(last_seen), story_id)
        except ValueError as exc:
            raise ProblemError(422, "cursor is not one this API gave out") from exc
    try:
        stories = await state.stories.latest(limit + 1, before)
    except PyMongoError as exc:
        raise ProblemError(
            503, "the store is unavailable; retry shortly", headers={"Retry-After": "5"}
        ) from exc
    page = stories[:limit]
    next_cursor = (
        encode_cursor(page[-1].last_seen.isoformat(), page[-1].id) if len(stories) > limit else None
    )
    return StoryList(items=[Story.from_stored(s) for s in page], next_cursor=next_cursor)


@router.get("/{story_id}", response_model=Story, responses=problem_responses(404, 422, 503))
async def get_story(story_id: StoryIdPath, state: State, request: Request) -> Response:
    """One story with its articles in time order (a merged story answers with the one it joined)."""
    try:
        story = await state.stories.get(story_id)
    except PyMongoError as exc:
        raise ProblemError(
            503, "the store is unavailable; retry shortly", headers={"Retry-After": "5"}
        ) from exc
    if story is None:
        raise ProblemError(404, f"no story {story_id}")
    return cached_json(request, Story.from_stored(story))
