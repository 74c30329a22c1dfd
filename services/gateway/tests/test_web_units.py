"""The web pages without servers: "time ago", snippets, and the routes over in-memory fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from newswire_contracts.events import RelatedArticle
from newswire_contracts.readmodel import StoredArticle, StoredStory, StoryArticle
from newswire_gateway.domain.models import Comment, ListedArticle
from newswire_gateway.domain.ratelimit import RateLimiter
from newswire_gateway.problems import install_problem_handlers
from newswire_gateway.web import install
from newswire_gateway.web.timeago import paragraphs, snippet, time_ago

pytestmark = pytest.mark.unit

NOW = datetime(2025, 7, 16, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=0), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=39, seconds=50), "39 minutes ago"),
        (timedelta(minutes=60), "1 hour ago"),
        (timedelta(hours=1, minutes=59), "1 hour ago"),
        (timedelta(hours=23), "23 hours ago"),
        (timedelta(days=2, hours=3), "2 days ago"),
        (timedelta(days=45), "1 month ago"),
        (timedelta(days=400), "1 year ago"),
        (timedelta(days=800), "2 years ago"),
        (timedelta(seconds=-30), "just now"),
        (timedelta(minutes=-5), "in 5 minutes"),
        (timedelta(hours=-3, minutes=-10), "in 3 hours"),
    ],
)
def test_time_ago(delta: timedelta, expected: str) -> None:
    assert time_ago(NOW - delta, NOW) == expected


def test_time_ago_takes_naive_times_as_utc() -> None:
    assert time_ago(datetime(2025, 7, 16, 10, 21), NOW) == "39 minutes ago"


def test_snippet_cuts_at_a_word_and_marks_the_cut() -> None:
    text = "Lavrov   visits\nPyongyang. " + "word " * 60
    cut = snippet(text, 40)
    assert len(cut) <= 40
    assert cut.endswith("…")
    assert cut.startswith("Lavrov visits Pyongyang.")
    assert snippet("Short one.", 40) == "Short one."


def test_paragraphs() -> None:
    assert paragraphs("One\nline.\n\n  Two.  \n\n\n") == ["One line.", "Two."]
    assert paragraphs("A\nB") == ["A", "B"]
    assert paragraphs("") == []


# --- the routes, over in-memory readers --------------------------------------------------

MAIN = "a" * 32
OTHER = "b" * 32
SUMMARY_ONLY = "c" * 32


def _article(identifier: str, **fields: Any) -> StoredArticle:
    document = {
        "_id": identifier,
        "url": f"https://news.example/{identifier}",
        "source": "Wire <Desk>",
        "title": "Title <script>alert(1)</script>",
        "text": "First <i>paragraph</i>.\n\nSecond paragraph.",
        "published_at": NOW - timedelta(minutes=39),
        "ingested_at": NOW,
        "content_hash": "0" * 64,
        "summary": "Summary & more.",
        "entities": [
            {"name": "Kim Jong Un", "type": "PERSON", "count": 3, "salience": 0.9},
            {"name": "Pyongyang", "type": "GPE", "count": 2, "salience": 0.5},
            {"name": "Korean Central News Agency", "type": "ORG", "count": 1, "salience": 0.2},
        ],
        "enriched_at": NOW,
        "stored_at": NOW,
        "story_id": "s1",
        **fields,
    }
    return StoredArticle.from_document(document)


class FakeArticles:
    def __init__(self, *articles: StoredArticle) -> None:
        self.by_id = {a.id: a for a in articles}

    async def get(self, article_id: str) -> StoredArticle | None:
        return self.by_id.get(article_id)

    async def list(self, query: Any, limit: int, after: Any) -> list[ListedArticle]:
        return [
            ListedArticle.model_validate({**a.model_dump(), "sort_time": a.published_at})
            for a in self.by_id.values()
            if any(e.name.casefold() == query.entity.casefold() for e in a.entities)
        ][:limit]


class FakeStories:
    def __init__(self, story: StoredStory) -> None:
        self.story = story

    async def get(self, story_id: str) -> StoredStory | None:
        return self.story if story_id == self.story.id else None

    async def latest(self, limit: int, before: Any) -> list[StoredStory]:
        return [self.story]


class FakeComments:
    def __init__(self) -> None:
        self.items: list[Comment] = []

    async def list(self, article_id: str, *, limit: int) -> list[Comment]:
        return [c for c in self.items if c.article_id == article_id][-limit:]

    async def post(self, article_id: str, *, author: str, body: str, now: datetime) -> Comment:
        comment = Comment(
            id=f"{len(self.items):032x}",
            article_id=article_id,
            author=author,
            body=body,
            posted_at=now,
        )
        self.items.append(comment)
        return comment


class FakePublisher:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def publish(self, event: Any) -> None:
        self.events.append(event)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    related = RelatedArticle(
        id=OTHER,
        title="Other <b>title</b>",
        url=f"https://news.example/{OTHER}",
        source="Copy Desk",
        published_at=NOW - timedelta(hours=1),
        score=0.9,
        relation="duplicate",
        same_story=True,
    )
    story = StoredStory(
        id="s1",
        title="Story <em>title</em>",
        summary="What <b>happened</b>, in short.",
        entities=("Kim Jong Un", "AC/DC"),
        people=("Kim Jong Un",),
        organisations=("AC/DC",),
        first_seen=NOW - timedelta(hours=2),
        last_seen=NOW,
        article_count=2,
        articles=(
            StoryArticle(id=MAIN, title="Main", url="https://news.example/m", source="Wire <Desk>"),
        ),
        updated_at=NOW,
    )
    app = FastAPI()
    app.state.gateway = SimpleNamespace(
        articles=FakeArticles(
            _article(MAIN, related=[related.model_dump()]),
            _article(OTHER, title="Other", summary="The other summary. " * 20),
            _article(
                SUMMARY_ONLY,
                title="Headline",
                text="Only the feed's two sentences.",
                text_source="feed",
                summary_only=True,
            ),
        ),
        stories=FakeStories(story),
        comments=FakeComments(),
        comment_limiter=RateLimiter(60, 3),
        publisher=FakePublisher(),
        settings=SimpleNamespace(trust_forwarded_for=False),
    )
    install_problem_handlers(app)
    install(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_article_page_escapes_every_text(client: httpx.AsyncClient) -> None:
    page = await client.get(f"/articles/{MAIN}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<script>alert(1)</script>" not in html
    assert "Title &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Wire &lt;Desk&gt;" in html
    assert "First &lt;i&gt;paragraph&lt;/i&gt;." in html
    assert "Other &lt;b&gt;title&lt;/b&gt;" in html
    assert "Same story, also published by Copy Desk" in html
    assert '<span class="same-story">same story</span>' in html
    assert "The other summary." in html
    assert " ago</time>" in html
    assert 'href="/entities/Kim%20Jong%20Un"' in html
    assert "Story &lt;em&gt;title&lt;/em&gt;" in html
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_an_article_with_only_the_feeds_summary_says_so_and_links_the_source(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get(f"/articles/{SUMMARY_ONLY}")).text
    assert "Summary from the feed: the full article could not be fetched" in html
    assert f'Read it at <a href="https://news.example/{SUMMARY_ONLY}"' in html
    assert "Only the feed&#39;s two sentences." in html
    assert "Summary from the feed" not in (await client.get(f"/articles/{MAIN}")).text


async def test_comment_form_posts_redirects_and_shows_errors(client: httpx.AsyncClient) -> None:
    form = {"author": "Ann", "body": "<b>bold</b>"}
    posted = await client.post(f"/articles/{MAIN}/comments", data=form)
    assert posted.status_code == 303
    assert posted.headers["location"] == f"/articles/{MAIN}#comments"
    page = (await client.get(f"/articles/{MAIN}")).text
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold</b>" not in page

    blank = await client.post(f"/articles/{MAIN}/comments", data={"author": " ", "body": "kept"})
    assert blank.status_code == 422
    assert "Name: must not be blank" in blank.text
    assert ">kept</textarea>" in blank.text

    fragment = await client.post(
        f"/articles/{MAIN}/comments",
        data={"author": "Bo", "body": "second"},
        headers={"X-Newswire-Fragment": "comments"},
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "second" in fragment.text
    assert "(2)" in fragment.text

    limited = [
        (await client.post(f"/articles/{MAIN}/comments", data=form)).status_code for _ in range(3)
    ]
    assert 429 in limited

    json_body = await client.post(f"/articles/{MAIN}/comments", json=form)
    assert json_body.status_code == 415


@pytest.mark.parametrize(
    "path",
    [
        "/articles/" + "0" * 32,
        "/articles/not-an-id",
        "/articles/" + "0" * 32 + "/related.html",
        "/stories/nope",
        "/stories/NOT%20VALID",
        "/entities/Nobody",
    ],
)
async def test_unknown_things_are_html_404s(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


async def test_front_story_entity_pages_and_fragments(client: httpx.AsyncClient) -> None:
    front = await client.get("/")
    assert front.status_code == 200
    assert "Story &lt;em&gt;title&lt;/em&gt;" in front.text
    assert 'data-live-src="/stories.html"' in front.text
    assert "<ol" in (await client.get("/stories.html")).text

    story = await client.get("/stories/s1")
    assert story.status_code == 200
    assert 'href="/entities/AC%2FDC"' in story.text
    # What a reader gets: summary, size, first and last seen, who and which organisations.
    assert "What &lt;b&gt;happened&lt;/b&gt;, in short." in story.text
    assert "2 articles · first seen" in story.text
    assert "last seen" in story.text
    assert "<h2>People</h2>" in story.text
    assert "<h2>Organisations</h2>" in story.text
    assert "<h2>Places</h2>" not in story.text, "no places: no empty group"
    assert (await client.get("/stories/s1/articles.html")).status_code == 200

    entity = await client.get("/entities/kim jong un")
    assert entity.status_code == 200
    assert "Kim Jong Un" in entity.text
    assert "Person" in entity.text

    related = await client.get(f"/articles/{MAIN}/related.html")
    assert related.status_code == 200
    assert "<html" not in related.text
    assert f'href="/articles/{OTHER}"' in related.text

    script = await client.get("/static/live.js")
    assert script.status_code == 200
    assert "EventSource" in script.text
