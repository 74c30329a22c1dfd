"""/v1/articles: submit articles and read them back."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Path, Query, Request, Response
from newswire_contracts import IngestArticle, article_id, canonicalize_url
from newswire_contracts.readmodel import StoredArticle, search_terms
from pydantic import AwareDatetime
from pymongo.errors import PyMongoError

from newswire_gateway.cursors import decode_cursor, encode_cursor
from newswire_gateway.deps import State, WriteAccess, gateway_state
from newswire_gateway.http_cache import json_with_etag
from newswire_gateway.problems import ProblemError, problem_responses
from newswire_gateway.schemas import (
    Accepted,
    Article,
    ArticleList,
    ArticleSummary,
    RelatedItem,
    RelatedList,
    SubmitArticle,
)
from newswire_gateway.store import ArticleQuery, ArticleReader

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/articles", tags=["articles"])

ArticleIdPath = Annotated[
    str, Path(pattern=r"^[0-9a-f]{32}$", description="Article id (32 hex digits)")
]


@router.post(
    "",
    status_code=202,
    dependencies=[WriteAccess],
    responses=problem_responses(401, 413, 422, 503),
)
async def submit_article(body: SubmitArticle, state: State, response: Response) -> Accepted:
    """Submit an article; it is readable at its id once ingested, enriched and related."""
    canonical = canonicalize_url(body.url)
    command = IngestArticle(
        url=body.url,
        title=body.title,
        text=body.text,
        html=body.html,
        source=body.source,
        published_at=body.published_at,
        language=body.language,
        submitted_at=datetime.now(UTC),
    )
    try:
        meta = await state.publisher.publish(command)
    except KafkaError as exc:
        log.warning("submission not published", extra={"error": repr(exc)})
        raise ProblemError(
            503, "the event log is unavailable; retry shortly", headers={"Retry-After": "5"}
        ) from exc
    identifier = article_id(canonical)
    log.info("article submitted", extra={"article_id": identifier, "event_id": meta.id})
    response.headers["Location"] = f"/v1/articles/{identifier}"
    return Accepted(id=identifier)


@router.get("", responses=problem_responses(422, 503))
async def list_articles(
    state: State,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=300, description="next_cursor of the previous page")
    ] = None,
    source: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Outlet name, exactly")
    ] = None,
    entity: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Entity name (any case)")
    ] = None,
    language: Annotated[
        str | None, Query(pattern=r"^[a-z]{2,3}$", description="ISO 639-1 code")
    ] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Published at or after (RFC 3339)")
    ] = None,
    until: Annotated[AwareDatetime | None, Query(description="Published before (RFC 3339)")] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Words that must all appear")
    ] = None,
) -> ArticleList:
    """Articles, newest first, filtered; pages stay correct while new articles arrive."""
    terms: tuple[str, ...] = ()
    if q is not None:
        terms = tuple(search_terms(q))[:10]
        if not terms:
            raise ProblemError(
                422, "q has no searchable words (words of two letters or more, not stop words)"
            )
    after = None
    if cursor is not None:
        moment, article_id = decode_cursor(cursor)
        try:
            after = (datetime.fromisoformat(moment), article_id)
        except ValueError as exc:
            raise ProblemError(422, "cursor is not one this API gave out") from exc
    query = ArticleQuery(
        source=source, entity=entity, language=language, since=since, until=until, terms=terms
    )
    try:
        documents = await state.articles.list(query, limit + 1, after)
    except PyMongoError as exc:
        raise ProblemError(
            503, "the store is unavailable; retry shortly", headers={"Retry-After": "5"}
        ) from exc
    page = documents[:limit]
    next_cursor = None
    if len(documents) > limit:
        last = page[-1]
        next_cursor = encode_cursor(last["sort_time"].isoformat(), last["_id"])
    return ArticleList(
        items=[ArticleSummary.from_document(d) for d in page], next_cursor=next_cursor
    )


# The two reads by id below are the API's busiest routes: they take the gateway's state from
# the request rather than through the State dependency, which would add a dependency to solve
# to every request (about 15 µs of the ~80 µs a cached read costs the app).


@router.get("/{article_id}", response_model=Article, responses=problem_responses(404, 422, 503))
async def get_article(article_id: ArticleIdPath, request: Request) -> Response:
    """One article with its enrichment; 404 until it has been processed.

    Answers 304 to an If-None-Match with its current ETag.
    """
    reader = gateway_state(request).articles
    stored = await _stored(reader, article_id)
    return json_with_etag(request, reader.rendered(stored, _article_json))


@router.get(
    "/{article_id}/related",
    response_model=RelatedList,
    responses=problem_responses(404, 422, 503),
)
async def get_related(
    article_id: ArticleIdPath,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100, description="How many, best first")] = 10,
) -> Response:
    """Articles related to this one, best first, with why; newer articles included."""
    reader = gateway_state(request).articles
    stored = await _stored(reader, article_id)

    def render(article: StoredArticle) -> bytes:
        items = [RelatedItem.model_validate(item.model_dump()) for item in article.related[:limit]]
        return RelatedList(items=items).model_dump_json().encode()

    return Response(
        content=reader.rendered(stored, render, f"related:{limit}"),
        media_type="application/json",
    )


async def _stored(reader: ArticleReader, article_id: str) -> StoredArticle:
    try:
        stored = await reader.get(article_id)
    except PyMongoError as exc:
        raise ProblemError(
            503, "the store is unavailable; retry shortly", headers={"Retry-After": "5"}
        ) from exc
    if stored is None:
        raise ProblemError(404, f"no article {article_id} (yet): it may still be in processing")
    return stored


def _article_json(article: StoredArticle) -> bytes:
    return Article.from_stored(article).model_dump_json().encode()
