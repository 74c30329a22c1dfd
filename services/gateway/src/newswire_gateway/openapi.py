"""The API's OpenAPI document: FastAPI's, with problem documents as the errors they are."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .problems import Problem

__all__ = ["DESCRIPTION", "install_openapi"]

DESCRIPTION = """\
Articles, their enrichment, related articles and stories, reader comments and feeds.

- **Errors** are RFC 9457 problem documents (`application/problem+json`) with a `detail`
  that says what to change; every status an operation answers with is listed under it.
- **Writes** other than reader comments need `Authorization: Bearer <key>`.
- **Bodies** are JSON (`Content-Type: application/json`, 415 otherwise), up to the gateway's
  limit (413 beyond); text that is not UTF-8 is a 400, JSON that does not parse or fit the
  schema a 422.
- **Pages** come with `next_cursor`: pass it as `cursor` for the next page. A cursor is a
  position (`<microseconds since 1970>.<id>`); any string of that form is accepted.
- **Other methods** on a path answer 405 with `Allow` listing the ones it has.
"""


def install_openapi(app: FastAPI) -> None:
    """Serve FastAPI's document with the Problem schema the routes' error responses refer to.

    The routes document their errors with ``problems.problem_responses`` (no ``model``, so
    FastAPI lists no application/json for them). An operation with parameters that lists no
    422 gets FastAPI's own, which is not what the gateway answers: test_openapi checks for it.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=DESCRIPTION,
                routes=app.routes,
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
