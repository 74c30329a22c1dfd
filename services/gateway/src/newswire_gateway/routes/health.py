"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from newswire_platform import ping_mongo

from newswire_gateway.deps import State

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, bool]:
    """The process is up and serving requests."""
    return {"alive": True}


@router.get("/readyz", responses={503: {"description": "Kafka or the store is unreachable"}})
async def readyz(state: State) -> JSONResponse:
    """Ready when both Kafka and the store answer; 503 otherwise."""
    checks = {
        "kafka": bool(await state.broker.ping(timeout=2.0)),
        "store": await ping_mongo(state.mongo),
    }
    ready = all(checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
