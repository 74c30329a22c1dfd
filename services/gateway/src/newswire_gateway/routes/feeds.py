"""/v1/feeds: register feeds for ingest to poll, see how polling goes, remove them."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Annotated

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Path, Query, Response
from newswire_contracts import IngestFeed, canonicalize_url, feed_id

from newswire_gateway.cursors import decode_cursor, encode_cursor
from newswire_gateway.deps import State, WriteAccess
from newswire_gateway.problems import ProblemError, problem_responses
from newswire_gateway.schemas import Feed, FeedList, RegisterFeed

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/feeds", tags=["feeds"])

FeedIdPath = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Feed id (32 hex digits)")]


@router.post(
    "",
    status_code=201,
    dependencies=[WriteAccess],
    responses={
        200: {"description": "Already registered; updated"},
        **problem_responses(401, 422, 503),
    },
)
async def register_feed(body: RegisterFeed, state: State, response: Response) -> Feed:
    """Register a feed (RSS, Atom or JSON Feed); ingest starts polling it within seconds.

    Registering the same feed URL again updates it and answers 200 with the same id; fields
    left out keep their values (send ``"poll_interval_seconds": null`` to return to an
    adaptive interval).
    """
    url = canonicalize_url(body.url)
    identifier = feed_id(url)
    now = datetime.now(UTC)
    existing = await state.feeds.get(identifier)
    title = body.title if body.title is not None else (existing.title if existing else None)
    interval = (
        body.poll_interval_seconds
        if "poll_interval_seconds" in body.model_fields_set or existing is None
        else existing.poll_interval_seconds
    )
    # The command first: a registration is only stored once ingest is sure to hear of it,
    # so a failed request leaves nothing behind and a retry completes it.
    await _publish(
        state,
        IngestFeed(
            kind="feed",
            action="subscribe",
            feed_id=identifier,
            url=url,
            title=title,
            poll_interval_seconds=interval,
            requested_at=now,
        ),
    )
    registration, created = await state.feeds.register(
        identifier, url=url, title=title, poll_interval_seconds=interval, now=now
    )
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/v1/feeds/{identifier}"
    return Feed.build(registration, await state.feeds.status(identifier))


@router.get("", responses=problem_responses(422))
async def list_feeds(
    state: State,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
) -> FeedList:
    """Registered feeds, oldest first, with how polling each one goes."""
    registrations = await state.feeds.all()
    if cursor is not None:
        after = decode_cursor(cursor)
        registrations = [r for r in registrations if (r.created_at.isoformat(), r.id) > after]
    page = registrations[:limit]
    statuses = await asyncio.gather(*(state.feeds.status(r.id) for r in page))
    next_cursor = (
        encode_cursor(page[-1].created_at.isoformat(), page[-1].id)
        if len(registrations) > limit
        else None
    )
    return FeedList(
        items=[Feed.build(r, s) for r, s in zip(page, statuses, strict=True)],
        next_cursor=next_cursor,
    )


@router.get("/{feed_id}", responses=problem_responses(404, 422))
async def get_feed(feed_id: FeedIdPath, state: State) -> Feed:
    """One feed: last fetch, last HTTP status, last error, entries seen, next fetch."""
    registration = await state.feeds.get(feed_id)
    if registration is None:
        raise ProblemError(404, f"no feed {feed_id}")
    return Feed.build(registration, await state.feeds.status(feed_id))


@router.delete(
    "/{feed_id}",
    status_code=204,
    dependencies=[WriteAccess],
    responses=problem_responses(401, 404, 503),
)
async def delete_feed(feed_id: FeedIdPath, state: State) -> Response:
    """Stop polling a feed and forget it (articles already ingested stay)."""
    registration = await state.feeds.get(feed_id)
    if registration is None:
        raise ProblemError(404, f"no feed {feed_id}")
    command = IngestFeed(
        kind="feed",
        action="unsubscribe",
        feed_id=feed_id,
        url=registration.url,
        requested_at=datetime.now(UTC),
    )
    await _publish(state, command)
    await state.feeds.delete(feed_id)
    return Response(status_code=204)


async def _publish(state: State, command: IngestFeed) -> None:
    try:
        await state.publisher.publish(command)
    except KafkaError as exc:
        log.warning("feed command not published", extra={"error": repr(exc)})
        raise ProblemError(
            503, "the event log is unavailable; retry shortly", headers={"Retry-After": "5"}
        ) from exc
