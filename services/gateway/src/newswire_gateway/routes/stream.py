"""/v1/stream: Server-Sent Events of new and updated articles and stories."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse

from newswire_gateway.deps import State
from newswire_gateway.fields import HEX_ID_PATTERN, STORY_ID_PATTERN
from newswire_gateway.problems import problem_responses
from newswire_gateway.routing import operation_id

router = APIRouter(tags=["stream"], generate_unique_id_function=operation_id)


@router.get(
    "/v1/stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "article, story and reset events",
        },
        **problem_responses(422),
    },
)
async def stream(
    request: Request,
    state: State,
    article: Annotated[
        str | None, Query(pattern=HEX_ID_PATTERN, description="Only this article's events")
    ] = None,
    story: Annotated[
        str | None, Query(pattern=STORY_ID_PATTERN, description="Only this story's events")
    ] = None,
    last_event_id: Annotated[str | None, Header(max_length=4096)] = None,
) -> EventSourceResponse:
    """Events as they happen: ``article`` (stored, or its related list or story changed) and
    ``story`` (created, grown or merged). Reconnect with ``Last-Event-ID`` to resume; a
    ``reset`` event means events were missed: reload."""
    subscription, replay, gap = state.live.subscribe(last_event_id, article=article, story=story)

    async def events() -> AsyncIterator[dict[str, Any]]:
        try:
            if gap:
                yield {"event": "reset", "data": "{}"}
            for event in replay:
                yield {"event": event.kind, "id": event.id, "data": json.dumps(event.data)}
            while (live := await subscription.queue.get()) is not None:
                yield {"event": live.kind, "id": live.id, "data": json.dumps(live.data)}
            yield {"event": "reset", "data": "{}"}  # overflowed or shutting down
        finally:
            state.live.unsubscribe(subscription)

    return EventSourceResponse(events(), ping=15, send_timeout=30)
