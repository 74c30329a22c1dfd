"""FastAPI dependencies as ``Annotated`` aliases for the route modules."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from .auth import check_api_key
from .state import GatewayState

__all__ = ["Client", "State", "WriteAccess", "gateway_state"]


def gateway_state(request: Request) -> GatewayState:
    return request.app.state.gateway  # type: ignore[no-any-return]


# Dependencies are coroutines: FastAPI runs a plain function dependency in a worker thread,
# which would cost every request a thread hand-off for a dictionary lookup.
async def _state(request: Request) -> GatewayState:
    return gateway_state(request)


State = Annotated[GatewayState, Depends(_state)]


async def _require_api_key(
    state: State,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
) -> None:
    check_api_key(authorization, state.settings.api_keys)


WriteAccess = Depends(_require_api_key)
"""Route dependency: the request must carry a valid API key."""


async def _client(request: Request, state: State) -> str:
    if state.settings.trust_forwarded_for and (forwarded := request.headers.get("x-forwarded-for")):
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


Client = Annotated[str, Depends(_client)]
"""Who is asking, for per-client limits: the address, or X-Forwarded-For's first when trusted."""
