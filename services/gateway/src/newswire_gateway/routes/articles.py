"""/v1/articles: submit articles and read them back."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Path, Query, Response
from newswire_contracts import IngestArticle, article_id, canonicalize_url
from pymongo.errors import PyMongoError

from newswire_gateway.deps import State, WriteAccess
from newswire_gateway.problems import ProblemError, problem_responses
from newswire_gateway.schemas import Accepted, Article, RelatedItem, RelatedList, SubmitArticle

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


@router.get("/{article_id}", responses=problem_responses(404, 422, 503))
async def get_article(article_id: ArticleIdPath, state: State) -> Article:
    """One article with its enrichment; 404 until it has been processed."""
    try:
        stored = await state.articles.get(article_id)
    except PyMongoError as exc:
        raise ProblemError(
            503, "the store is unavailable; retry shortly", headers={"Retry-After": "5"}
        ) from exc
    if stored is None:
        raise ProblemError(404, f"no article {article_id} (yet): it may still be in processing")
    return Article.from_stored(stored)


@router.get("/{article_id}/related", responses=problem_responses(404, 422, 503))
async def get_related(
    article_id: ArticleIdPath,
    state: State,
    limit: Annotated[int, Query(ge=1, le=100, description="How many, best first")] = 10,
) -> RelatedList:
    """Articles related to this one, best first, with why; newer articles included."""
    try:
        stored = await state.articles.get(article_id)
    except PyMongoError as exc:
        raise ProblemError(
            503, "the store is unavailable; retry shortly", headers={"Retry-After": "5"}
        ) from exc
    if stored is None:
        raise ProblemError(404, f"no article {article_id} (yet): it may still be in processing")
    return RelatedList(
        items=[RelatedItem.model_validate(item.model_dump()) for item in stored.related[:limit]]
    )
