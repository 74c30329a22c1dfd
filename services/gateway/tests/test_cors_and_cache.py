"""CORS from settings, and conditional GET, without servers."""

import httpx
import pytest
from fastapi import FastAPI, Request
from newswire_gateway.config import GatewaySettings
from newswire_gateway.http_cache import cached_json
from newswire_gateway.main import create_app
from pydantic import BaseModel

pytestmark = pytest.mark.unit


async def test_cors_preflight_allows_only_configured_origins() -> None:
    app = create_app(GatewaySettings(cors_origins=["https://reader.example"]))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        allowed = await client.options(
            "/v1/articles",
            headers={"Origin": "https://reader.example", "Access-Control-Request-Method": "GET"},
        )
        refused = await client.options(
            "/v1/articles",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    assert allowed.headers["access-control-allow-origin"] == "https://reader.example"
    assert "access-control-allow-origin" not in refused.headers


class Doc(BaseModel):
    value: str


async def test_etags_match_the_body_and_answer_304() -> None:
    app = FastAPI()

    @app.get("/doc")
    async def doc(request: Request):  # type: ignore[no-untyped-def]
        return cached_json(request, Doc(value=request.query_params.get("v", "a")))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        first = await client.get("/doc")
        etag = first.headers["etag"]
        assert (await client.get("/doc", headers={"If-None-Match": etag})).status_code == 304
        assert (
            await client.get("/doc", headers={"If-None-Match": f'"x", W/{etag}'})
        ).status_code == 304
        assert (await client.get("/doc", headers={"If-None-Match": "*"})).status_code == 304
        changed = await client.get("/doc?v=b", headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert changed.headers["etag"] != etag
