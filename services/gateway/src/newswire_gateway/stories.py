"""Stories (every outlet's article about one event): the latest a page at a time, or one."""

from __future__ import annotations

from newswire_contracts.readmodel import StoredStory

from .domain.errors import NotFound
from .domain.paging import Page, page_of, position_of
from .state import GatewayState

__all__ = ["latest", "read"]


async def latest(gateway: GatewayState, limit: int, cursor: str | None) -> Page[StoredStory]:
    """A page of stories by their newest article, newest first, after the cursor's position."""
    found = await gateway.stories.latest(limit + 1, position_of(cursor))
    return page_of(found, limit, lambda story: (story.last_seen, story.id))


async def read(gateway: GatewayState, story_id: str) -> StoredStory:
    """The story, or the one it merged into."""
    story = await gateway.stories.get(story_id)
    if story is None:
        raise NotFound("story", f"no story {story_id}")
    return story
