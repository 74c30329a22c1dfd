"""FastAPI dependencies as ``Annotated`` aliases for the route modules."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .auth import check_api_key
from .problems import ProblemError
from .state import GatewayState

__all__ = ["Client", "JsonBody", "State", "WriteAccess", "gateway_state"]


def gateway_state(request: Request) -> GatewayState:
    return request.app.state.gateway  # type: ignore[no-any-return]


# Dependencies are coroutines: FastAPI runs a plain function dependency in a worker thread,
# which would cost every request a thread hand-off for a dictionary lookup.
async def _state(request: Request) -> GatewayState:
    return gateway_state(request)


State = Annotated[GatewayState, Depends(_state)]

# Declares the scheme in the OpenAPI document; check_api_key reads the header itself, so that
# a missing, malformed or wrong key each get their own 401 detail.
_bearer = HTTPBearer(
    scheme_name="apiKey",
    description="An API key from NEWSWIRE_API_KEYS: Authorization: Bearer <key>.",
    auto_error=False,
)


async def _require_api_key(
    request: Request,
    state: State,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> None:
    check_api_key(request.headers.get("authorization"), state.settings.api_keys)


WriteAccess = Depends(_require_api_key)
"""Route dependency: the request must carry a valid API key."""


async def _require_json(request: Request) -> None:
    # FastAPI has read the body already (and parsed it only if it is JSON); an empty body is
    # left to validation, which names the missing field.
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    kind, _, subtype = media_type.partition("/")
    json = kind == "application" and (subtype == "json" or subtype.endswith("+json"))
    if await request.body() and not json:
        raise ProblemError(415, "send the body as application/json")


JsonBody = Depends(_require_json)
"""Route dependency: a body, if any, must be JSON (415 otherwise)."""


async def _client(request: Request, state: State) -> str:
    if state.settings.trust_forwarded_for and (forwarded := request.headers.get("x-forwarded-for")):
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


Client = Annotated[str, Depends(_client)]
"""Who is asking, for per-client limits: the address, or X-Forwarded-For's first when trusted."""
