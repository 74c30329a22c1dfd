"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from newswire_platform import ping_mongo
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel, Field

from newswire_gateway.deps import State
from newswire_gateway.routing import operation_id

router = APIRouter(tags=["operations"], generate_unique_id_function=operation_id)


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, bool] = Field(description="kafka and store: whether each answered.")


@router.get("/healthz")
async def healthz() -> dict[str, bool]:
    """The process is up and serving requests."""
    return {"alive": True}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Kafka or the store is unreachable"}},
)
async def readyz(state: State) -> JSONResponse:
    """Ready when both Kafka and the store answer; 503 otherwise."""
    checks = {
        "kafka": bool(await state.broker.ping(timeout=2.0)),
        "store": await ping_mongo(state.mongo),
    }
    ready = all(checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics() -> Response:
    """Prometheus metrics: requests and latency by route, Kafka publishing, process."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
