"""/v1/articles: submit articles and read them back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from newswire_contracts import IngestArticle
from newswire_contracts.readmodel import StoredArticle

from newswire_gateway import articles
from newswire_gateway.deps import JsonBody, State, WriteAccess, gateway_state
from newswire_gateway.domain.models import ArticleQuery, query_terms
from newswire_gateway.fields import HEX_ID_PATTERN, CursorParam, Rfc3339
from newswire_gateway.http_cache import (
    ETAG_HEADERS,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    json_with_etag,
)
from newswire_gateway.problems import problem_responses
from newswire_gateway.routing import links, operation_id
from newswire_gateway.schemas import (
    Accepted,
    Article,
    ArticleList,
    ArticleSummary,
    RelatedItem,
    RelatedList,
    SubmitArticle,
)

router = APIRouter(
    prefix="/v1/articles", tags=["articles"], generate_unique_id_function=operation_id
)

ArticleIdPath = Annotated[
    str, Path(pattern=HEX_ID_PATTERN, description="Article id (32 hex digits)")
]


_READS = ("get_related", "list_comments", "post_comment")
_LISTED_ARTICLE_LINKS = links("get_article", *_READS, article_id="$response.body#/items/0/id")
_ARTICLE_LINKS = links(*_READS, article_id="$request.path.article_id")


# No link from the 202 to the article: it is readable once ingest, enrich and relate have
# processed it, not at once.
@router.post(
    "",
    status_code=202,
    dependencies=[WriteAccess, JsonBody],
    responses={
        202: {
            "description": "Accepted for processing; readable at Location once processed.",
            "headers": {
                "Location": {
                    "description": "/v1/articles/{id}, where it will be readable.",
                    "schema": {"type": "string"},
                }
            },
        },
        **problem_responses(400, 401, 413, 415, 422, 503),
    },
)
async def submit_article(body: SubmitArticle, state: State, response: Response) -> Accepted:
    """Submit an article; it is readable at its id once ingested, enriched and related."""
    command = IngestArticle(**body.model_dump(), submitted_at=datetime.now(UTC))
    identifier = await articles.submit(state, command)
    response.headers["Location"] = f"/v1/articles/{identifier}"
    return Accepted(id=identifier)


@router.get(
    "",
    responses={
        200: {"description": "A page of articles.", "links": _LISTED_ARTICLE_LINKS},
        **problem_responses(422, 503),
    },
)
async def list_articles(
    state: State,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: CursorParam = None,
    source: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Outlet name, exactly")
    ] = None,
    entity: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Entity name (any case)")
    ] = None,
    language: Annotated[
        str | None, Query(pattern=r"^[a-z]{2,3}$", description="ISO 639-1 code")
    ] = None,
    since: Annotated[Rfc3339 | None, Query(description="Published at or after (RFC 3339)")] = None,
    until: Annotated[Rfc3339 | None, Query(description="Published before (RFC 3339)")] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Words that must all appear (any case). Stop words and one-letter "
            "words are not indexed and so are left out; a q of nothing else does not filter.",
        ),
    ] = None,
) -> ArticleList:
    """Articles, newest first, filtered; pages stay correct while new articles arrive."""
    query = ArticleQuery(
        source=source,
        entity=entity,
        language=language,
        since=since,
        until=until,
        terms=query_terms(q),
    )
    page = await articles.listing(state, query, limit, cursor)
    return ArticleList(
        items=[ArticleSummary.from_listed(a) for a in page.items], next_cursor=page.next_cursor
    )


# The two reads by id below are the API's busiest routes: they take the gateway's state from
# the request rather than through the State dependency, which would add a dependency to solve
# to every request (about 15 µs of the ~80 µs a cached read costs the app).


@router.get(
    "/{article_id}",
    response_model=Article,
    responses={
        200: {"links": _ARTICLE_LINKS, "headers": ETAG_HEADERS},
        **NOT_MODIFIED,
        **problem_responses(404, 422, 503),
    },
    openapi_extra={"parameters": [IF_NONE_MATCH]},
)
async def get_article(article_id: ArticleIdPath, request: Request) -> Response:
    """One article with its enrichment; 404 until it has been processed.

    Answers 304 to an If-None-Match with its current ETag.
    """
    state = gateway_state(request)
    stored = await articles.read(state, article_id)
    return json_with_etag(request, state.articles.rendered(stored, _article_json))


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
    state = gateway_state(request)
    stored = await articles.read(state, article_id)

    def render(article: StoredArticle) -> bytes:
        items = [RelatedItem.model_validate(item.model_dump()) for item in article.related[:limit]]
        return RelatedList(items=items).model_dump_json().encode()

    return Response(
        content=state.articles.rendered(stored, render, f"related:{limit}"),
        media_type="application/json",
    )


def _article_json(article: StoredArticle) -> bytes:
    return Article.from_stored(article).model_dump_json().encode()
