"""Bad HTTP requests get RFC 9457 problem documents with a useful detail, never a trace."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e

VALID = {"url": "https://news.example/problems", "text": "Some text."}


async def problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert "Traceback" not in response.text
    return body


@pytest.fixture
async def client(pipeline) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:
        yield client


async def test_writes_need_a_valid_key(client: httpx.AsyncClient) -> None:
    missing = await problem(await client.post("/v1/articles", json=VALID), 401)
    assert "API key" in str(missing["detail"])
    wrong = await client.post("/v1/articles", json=VALID, headers={"Authorization": "Bearer nope"})
    await problem(wrong, 401)
    assert wrong.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"text": "no url"}, "url: Field required"),
        ({"url": "ftp://news.example/a"}, "scheme must be http or https"),
        ({"url": "not a url"}, "scheme must be http or https"),
        ({**VALID, "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({**VALID, "published_at": "2025-07-08T09:00:00"}, "published_at"),
        ({**VALID, "language": "English!"}, "language"),
    ],
)
async def test_invalid_bodies_are_named(
    pipeline, client: httpx.AsyncClient, body: dict[str, object], detail: str
) -> None:  # type: ignore[no-untyped-def]
    found = await problem(await client.post("/v1/articles", json=body, headers=pipeline.auth), 422)
    assert detail in str(found["detail"])
    assert found["instance"] == "/v1/articles"


async def test_malformed_json_is_a_problem(pipeline, client: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/v1/articles",
        content=b"{not json",
        headers={**pipeline.auth, "content-type": "application/json"},
    )
    await problem(response, 422)


async def test_oversized_body_is_refused(pipeline, client: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    huge = {"url": "https://news.example/huge", "html": "<p>" + "x" * 5_000_000 + "</p>"}
    await problem(await client.post("/v1/articles", json=huge, headers=pipeline.auth), 413)


async def test_unknown_and_malformed_ids(client: httpx.AsyncClient) -> None:
    await problem(await client.get("/v1/articles/" + "0" * 32), 404)
    malformed = await problem(await client.get("/v1/articles/../../etc"), 404)
    assert malformed
    await problem(await client.get("/v1/articles/ZZZ"), 422)
    await problem(await client.get("/v1/nothing-here"), 404)


async def test_operator_injection_cannot_reach_the_store(client: httpx.AsyncClient) -> None:
    await problem(await client.get("/v1/articles/%7B%22%24ne%22%3A1%7D"), 422)


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"alive": True}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"kafka": True, "store": True}
