"""/v1/feeds: register feeds for ingest to poll, see how polling goes, remove them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from newswire_gateway import feeds
from newswire_gateway.deps import JsonBody, State, WriteAccess
from newswire_gateway.fields import HEX_ID_PATTERN, CursorParam
from newswire_gateway.problems import problem_responses
from newswire_gateway.routing import links, operation_id
from newswire_gateway.schemas import Feed, FeedList, RegisterFeed

router = APIRouter(prefix="/v1/feeds", tags=["feeds"], generate_unique_id_function=operation_id)

FeedIdPath = Annotated[str, Path(pattern=HEX_ID_PATTERN, description="Feed id (32 hex digits)")]


def _links(feed_id: str) -> dict[str, dict[str, object]]:
    return links("get_feed", "delete_feed", feed_id=feed_id)


_LOCATION = {
    "Location": {"description": "/v1/feeds/{id}", "schema": {"type": "string"}},
}


@router.post(
    "",
    status_code=201,
    dependencies=[WriteAccess, JsonBody],
    responses={
        201: {
            "description": "Registered.",
            "headers": _LOCATION,
            "links": _links("$response.body#/id"),
        },
        200: {
            "description": "Already registered; updated.",
            "model": Feed,
            "headers": _LOCATION,
            "links": _links("$response.body#/id"),
        },
        **problem_responses(400, 401, 413, 415, 422, 503),
    },
)
async def register_feed(body: RegisterFeed, state: State, response: Response) -> Feed:
    """Register a feed (RSS, Atom or JSON Feed); ingest starts polling it within seconds.

    Registering the same feed URL again updates it and answers 200 with the same id; fields
    left out keep their values (send ``"poll_interval_seconds": null`` to return to an
    adaptive interval).
    """
    (registration, status), created = await feeds.register(
        state,
        body.url,
        title=body.title,
        poll_interval_seconds=body.poll_interval_seconds,
        interval_given="poll_interval_seconds" in body.model_fields_set,
    )
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/v1/feeds/{registration.id}"
    return Feed.build(registration, status)


@router.get(
    "",
    responses={
        200: {"description": "A page of feeds.", "links": _links("$response.body#/items/0/id")},
        **problem_responses(422, 503),
    },
)
async def list_feeds(
    state: State,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: CursorParam = None,
) -> FeedList:
    """Registered feeds, oldest first, with how polling each one goes."""
    page = await feeds.listing(state, limit, cursor)
    return FeedList(items=[Feed.build(*feed) for feed in page.items], next_cursor=page.next_cursor)


@router.get("/{feed_id}", responses=problem_responses(404, 422, 503))
async def get_feed(feed_id: FeedIdPath, state: State) -> Feed:
    """One feed: last fetch, last HTTP status, last error, entries seen, next fetch."""
    return Feed.build(*await feeds.read(state, feed_id))


@router.delete(
    "/{feed_id}",
    status_code=204,
    dependencies=[WriteAccess],
    responses={204: {"description": "Removed."}, **problem_responses(401, 404, 422, 503)},
)
async def delete_feed(feed_id: FeedIdPath, state: State) -> Response:
    """Stop polling a feed and forget it (articles already ingested stay)."""
    await feeds.remove(state, feed_id)
    return Response(status_code=204)
