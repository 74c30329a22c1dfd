"""RFC 9457 problem documents for every error the API returns.

Clients get a status, a title and a useful ``detail``; never a stack trace. The rules'
refusals, an unavailable store and an unavailable event log become problems here, and only here.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from newswire_platform import StoreError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .adapters.publisher import EventLogUnavailable
from .domain.errors import Invalid, NotFound, RateLimited, Refused
from .routing import allowed_methods

__all__ = [
    "PROBLEM_JSON",
    "PROBLEM_SCHEMA_REF",
    "Problem",
    "ProblemError",
    "as_problem",
    "install_problem_handlers",
    "problem_responses",
]

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(default="about:blank", description="A URI naming the problem type.")
    title: str = Field(description="Short summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What went wrong with this request.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="For validation errors: where and what."
    )


class ProblemError(Exception):
    """Raise to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


_RETRY = {"Retry-After": "5"}
_REFUSALS: dict[type[Refused], int] = {NotFound: 404, Invalid: 422, RateLimited: 429}


def as_problem(exc: Exception) -> ProblemError:
    """The problem a refusal of the rules, or an unavailable store or event log, answers with."""
    if isinstance(exc, ProblemError):
        return exc
    if isinstance(exc, StoreError):
        return ProblemError(503, "the store is unavailable; retry shortly", headers=_RETRY)
    if isinstance(exc, EventLogUnavailable):
        return ProblemError(503, "the event log is unavailable; retry shortly", headers=_RETRY)
    assert isinstance(exc, Refused)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return ProblemError(_REFUSALS[type(exc)], str(exc), headers=headers)


def problem_response(
    request: Request,
    status: int,
    detail: str | None,
    *,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    problem = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error, including validation errors and crashes, a problem document."""

    async def _problem(request: Request, exc: Exception) -> JSONResponse:
        problem = as_problem(exc)
        if problem.status == 503:
            log.warning("unavailable", extra={"path": request.url.path, "error": repr(exc)})
        return problem_response(request, problem.status, problem.detail, headers=problem.headers)

    for kind in (ProblemError, Refused, StoreError, EventLogUnavailable):
        app.add_exception_handler(kind, _problem)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(app, request.scope)
        return problem_response(request, exc.status_code, detail, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Echoing the input back could leak or reflect what the client sent; location and
        # message are enough to fix the request.
        errors = [
            {"loc": [str(part) for part in err.get("loc", ())], "msg": err.get("msg", "invalid")}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
        return problem_response(request, 422, f"invalid request: {summary}", errors=errors)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(request, 500, "internal error; it has been logged")


PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"

_WHY = {
    400: "The body cannot be read (it is not UTF-8 text).",
    401: "No API key, or not a valid one: send Authorization: Bearer <key>.",
    404: "Nothing with that id (yet).",
    413: "The body is larger than the gateway takes (NEWSWIRE_MAX_REQUEST_BYTES).",
    415: "The body is not sent as application/json.",
    422: "A parameter or the body is not valid (not JSON, or not of the schema): errors "
    "says where and what.",
    429: "Too many requests from this client: retry after Retry-After seconds.",
    503: "The store or the event log is unavailable: retry after Retry-After seconds.",
}
_RETRY_AFTER = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with: Bearer.",
            "schema": {"type": "string"},
        }
    },
    429: {"Retry-After": _RETRY_AFTER},
    503: {"Retry-After": _RETRY_AFTER},
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem documents, as application/problem+json only.

    No ``model``: FastAPI would document it as application/json as well. The Problem schema
    is added to the document's components by ``openapi.install_openapi``.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {
            "description": _WHY.get(status, HTTPStatus(status).phrase),
            "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
        }
        if status in _HEADERS:
            response["headers"] = _HEADERS[status]
        responses[status] = response
    return responses
