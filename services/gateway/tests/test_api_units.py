"""The API's routes over in-memory readers: typed models in, the documented JSON out."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from newswire_gateway.config import GatewaySettings
from newswire_gateway.domain.models import ArticleQuery, ListedArticle
from newswire_gateway.main import create_app

pytestmark = pytest.mark.unit

NOW = datetime(2025, 7, 16, 11, 0, tzinfo=UTC)
ENTITY = {"name": "Etna", "type": "LOC", "count": 1, "salience": 0.5}


def _listed(n: int) -> ListedArticle:
    return ListedArticle(
        id=f"{n:032x}",
        url=f"https://news.example/{n}",
        title=f"Eruption {n}",
        source="Wire",
        ingested_at=NOW,
        sort_time=NOW - timedelta(hours=n),
        entities=[ENTITY] * 7,
    )


class FakeArticles:
    def __init__(self) -> None:
        self.items = [_listed(n) for n in range(3)]
        self.searched: list[tuple[str, ...]] = []

    async def list(
        self, query: ArticleQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[ListedArticle]:
        self.searched.append(query.terms)
        return [a for a in self.items if after is None or (a.sort_time, a.id) < after][:limit]


@pytest.fixture
def fake_articles() -> FakeArticles:
    return FakeArticles()


@pytest.fixture
async def client(fake_articles: FakeArticles) -> AsyncIterator[httpx.AsyncClient]:
    settings = GatewaySettings()
    app = create_app(settings)
    app.state.gateway = SimpleNamespace(settings=settings, articles=fake_articles)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_listings_page_with_cursors(
    client: httpx.AsyncClient, fake_articles: FakeArticles
) -> None:
    first: dict[str, Any] = (await client.get("/v1/articles?q=Etna&limit=2")).json()
    assert [item["title"] for item in first["items"]] == ["Eruption 0", "Eruption 1"]
    assert len(first["items"][0]["entities"]) == 5
    assert "sort_time" not in first["items"][0]
    params = {"q": "Etna", "limit": 2, "cursor": first["next_cursor"]}
    second = (await client.get("/v1/articles", params=params)).json()
    assert [item["title"] for item in second["items"]] == ["Eruption 2"]
    assert second["next_cursor"] is None
    assert fake_articles.searched == [("etna",), ("etna",)]


async def test_malformed_cursors_are_422_problems(client: httpx.AsyncClient) -> None:
    for cursor in ("bm90IGpzb24", "1752663600000000", "1.B"):
        response = await client.get("/v1/articles", params={"q": "Etna", "cursor": cursor})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert "cursor" in response.json()["detail"]


async def test_a_search_of_stop_words_only_does_not_filter(
    client: httpx.AsyncClient, fake_articles: FakeArticles
) -> None:
    response = await client.get("/v1/articles", params={"q": "the and a"})
    assert response.status_code == 200
    assert len(response.json()["items"]) == 3
    assert fake_articles.searched == [()]
