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


STORY_ID = "a" * 32
OTHER_ID = "b" * 32


class FakeStories:
    def __init__(self, story: Any) -> None:
        self.story = story

    async def get(self, story_id: str) -> Any:
        return self.story if story_id == self.story.id else None


class FakeArticleReads:
    def __init__(self, article: Any) -> None:
        self.article = article

    async def get(self, article_id: str) -> Any:
        return self.article if article_id == self.article.id else None

    def rendered(self, stored: Any, render: Any, key: str = "") -> bytes:
        return render(stored)


async def test_a_story_and_a_related_list_say_what_a_reader_gets() -> None:
    from newswire_contracts.readmodel import StoredArticle, StoredStory, StoryArticle

    story = StoredStory(
        id=STORY_ID,
        title="Volcano erupts on Sicily",
        summary="Etna erupted on Tuesday; flights to Catania were cancelled.",
        entities=("Etna", "Catania"),
        people=("Renato Schifani",),
        places=("Etna", "Catania"),
        organisations=("INGV",),
        first_seen=NOW - timedelta(hours=5),
        last_seen=NOW,
        article_count=2,
        articles=(
            StoryArticle(
                id=STORY_ID, title="Etna erupts", url="https://news.example/1", source="A"
            ),
            StoryArticle(
                id=OTHER_ID, title="Flights cut", url="https://news.example/2", source="B"
            ),
        ),
        updated_at=NOW,
    )
    related = [
        {
            "id": OTHER_ID,
            "title": "Flights cut",
            "url": "https://news.example/2",
            "source": "B",
            "score": 0.6,
            "same_story": True,
        },
        {
            "id": "c" * 32,
            "title": "Last year's eruption",
            "url": "https://news.example/3",
            "source": "C",
            "score": 0.2,
            "same_story": False,
        },
    ]
    article = StoredArticle.from_document(
        {
            "_id": STORY_ID,
            "url": "https://news.example/1",
            "source": "A",
            "title": "Etna erupts",
            "text": "Etna erupted.",
            "ingested_at": NOW,
            "content_hash": "0" * 64,
            "enriched_at": NOW,
            "stored_at": NOW,
            "story_id": STORY_ID,
            "related": related,
        }
    )
    settings = GatewaySettings()
    app = create_app(settings)
    app.state.gateway = SimpleNamespace(
        settings=settings, stories=FakeStories(story), articles=FakeArticleReads(article)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        got = (await client.get(f"/v1/stories/{STORY_ID}")).json()
        items = (await client.get(f"/v1/articles/{STORY_ID}/related")).json()["items"]
    assert got["title"] == "Volcano erupts on Sicily"
    assert got["summary"].startswith("Etna erupted")
    assert (got["people"], got["places"], got["organisations"]) == (
        ["Renato Schifani"],
        ["Etna", "Catania"],
        ["INGV"],
    )
    assert got["article_count"] == 2
    assert [a["id"] for a in got["articles"]] == [STORY_ID, OTHER_ID]
    assert got["first_seen"] < got["last_seen"]
    assert [i["same_story"] for i in items] == [True, False]
