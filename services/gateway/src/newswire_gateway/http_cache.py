"""Conditional GET: a strong ETag over the response body, and 304 for a matching If-None-Match."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

__all__ = ["ETAG_HEADERS", "IF_NONE_MATCH", "NOT_MODIFIED", "cached_json", "json_with_etag"]

# How the OpenAPI document tells it, for the routes that answer conditional GETs.
ETAG_HEADERS = {
    "ETag": {
        "description": "A strong validator of this body: send it back as If-None-Match.",
        "schema": {"type": "string"},
    }
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETags of copies the client has; 304 when one is current.",
    "schema": {"type": "string"},
}
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "The copy named in If-None-Match is current.", "headers": ETAG_HEADERS}
}


def cached_json(request: Request, model: BaseModel) -> Response:
    """The model as JSON with its ETag, or an empty 304 when the client has it already."""
    return json_with_etag(request, model.model_dump_json().encode())


def json_with_etag(request: Request, body: bytes) -> Response:
    """A JSON body with its ETag, or an empty 304 when the client has it already."""
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in candidates or etag in candidates
