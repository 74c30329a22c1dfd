"""A store or Kafka outage is answered in one place: a 503 problem document from the API, a
503 page from the site; nothing above the adapters sees pymongo's or aiokafka's errors."""

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from newswire_gateway.adapters.publisher import EventLogUnavailable
from newswire_gateway.config import GatewaySettings
from newswire_gateway.domain.ratelimit import RateLimiter
from newswire_gateway.main import create_app
from newswire_platform import StoreUnavailable

pytestmark = pytest.mark.unit

ID = "a" * 32


class Unreachable:
    """Every store read and write fails as it does while the store does not answer."""

    def __getattr__(self, name: str) -> Any:
        async def fail(*args: Any, **kwargs: Any) -> None:
            raise StoreUnavailable("no server answered")

        return fail


class KafkaAway:
    async def publish(self, event: Any) -> str:
        raise EventLogUnavailable("no broker answered")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = GatewaySettings(api_keys=["key"])
    app = create_app(settings)
    store = Unreachable()
    app.state.gateway = SimpleNamespace(
        settings=settings,
        articles=store,
        stories=store,
        feeds=store,
        comments=store,
        comment_limiter=RateLimiter(60, 3),
        publisher=KafkaAway(),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/articles"),
        ("GET", f"/v1/articles/{ID}"),
        ("GET", f"/v1/articles/{ID}/related"),
        ("GET", "/v1/stories"),
        ("GET", "/v1/stories/s1"),
        ("GET", f"/v1/articles/{ID}/comments"),
        ("POST", f"/v1/articles/{ID}/comments"),
        ("GET", "/v1/feeds"),
        ("DELETE", f"/v1/feeds/{ID}"),
    ],
)
async def test_the_api_answers_503_while_the_store_is_away(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    body = {"author": "Ann", "body": "Hi."} if method == "POST" else None
    response = await client.request(
        method, path, json=body, headers={"Authorization": "Bearer key"}
    )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json()["detail"] == "the store is unavailable; retry shortly"


async def test_submissions_answer_503_while_kafka_is_away(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/articles",
        json={"url": "https://news.example/a", "text": "Text."},
        headers={"Authorization": "Bearer key"},
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["detail"] == "the event log is unavailable; retry shortly"


@pytest.mark.parametrize(
    "path", ["/", "/stories.html", f"/articles/{ID}", "/stories/s1", "/entities/Kim"]
)
async def test_pages_answer_a_503_page_while_the_store_is_away(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["retry-after"] == "5"
    assert "The news store is not answering right now." in response.text
