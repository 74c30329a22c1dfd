"""The operators' form, run: ``docker compose up`` of compose.yaml, driven from outside.

Images are the official ones where they can be pulled, else the local stand-ins of
deploy/images/. Load goes to the gateway's published loopback port; a feed is served by a
container on the project's own network (tests/compose.test.yaml); faults are
``docker compose`` commands. The tests run in order on one project; the last starts a
second, scaled one to compare with the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from newswire_cli.submit import submit_paths, wait_for_article
from newswire_contracts import article_id, canonicalize_url
from newswire_devstack.cli import SAMPLE_ARTICLE_URL, SAMPLE_CORPUS

from tests.compose_stacks import (
    NEWSWIRE_SERVICES,
    Deployed,
    Submission,
    corpus_articles,
    deployed,
    listed,
    one_engine_stories,
    settled_read_model,
)
from tests.feed_samples import NINE_NEWS, NINE_NEWS_FIRST, rss
from tests.support import eventually
from tests.test_faults import submit_all

pytestmark = [pytest.mark.compose, pytest.mark.timeout(1800)]

REFERENCE_COUNT = 80
"""Articles submitted to both the one-of-each and the scaled project."""

_first_read_model: dict[str, Any] = {}


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployed]:
    async with deployed(tmp_path_factory.mktemp("site")) as project:
        yield project


@pytest.fixture
async def client(stack: Deployed) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as http:
        yield http


def reference_corpus() -> list[Submission]:
    return corpus_articles("compose-reference", REFERENCE_COUNT)


def bodies_of(submissions: list[Submission]) -> list[dict[str, Any]]:
    return [submission.body for submission in submissions]


def ids_of(submissions: list[Submission]) -> list[str]:
    return [submission.id for submission in submissions]


async def test_articles_are_served_enriched_and_related(
    stack: Deployed, client: httpx.AsyncClient
) -> None:
    submissions = reference_corpus()
    await submit_all(client, stack.auth, bodies_of(submissions), rate=20.0)
    model = await settled_read_model(stack, client, ids_of(submissions))
    assert all(article["version"] == 1 for article in model.values())
    assert sum(bool(article["entities"]) for article in model.values()) >= 0.9 * len(model)
    assert all(article["keywords"] for article in model.values())
    assert all(article["story_id"] for article in model.values())
    # Related means the same labelled event: the best related article of most articles that
    # have others of their event among these is one of them.
    event = {submission.id: submission.event for submission in submissions}
    with_peers = [i for i in event if sum(e == event[i] for e in event.values()) > 1]
    right = [
        i
        for i in with_peers
        if model[i]["related"] and event.get(model[i]["related"][0][0]) == event[i]
    ]
    assert len(right) >= 0.8 * len(with_peers), (len(right), len(with_peers))
    _first_read_model.update(model)


async def test_the_sample_corpus_is_submitted_with_the_cli_and_served(
    stack: Deployed, client: httpx.AsyncClient
) -> None:
    summary = await submit_paths(
        [SAMPLE_CORPUS], gateway_url=stack.gateway_url, api_key=stack.api_key, progress=False
    )
    assert summary.accepted, summary.render()
    assert not summary.rejected, summary.render()
    identifier = await wait_for_article(stack.gateway_url, SAMPLE_ARTICLE_URL, timeout=240)

    async def enriched_and_related() -> dict[str, Any] | None:
        article = (await client.get(f"/v1/articles/{identifier}")).json()
        related = (await client.get(f"/v1/articles/{identifier}/related")).json()["items"]
        return {"article": article, "related": related} if related else None

    found = await eventually(enriched_and_related, timeout=180, what="the sample's related list")
    names = {entity["name"] for entity in found["article"]["entities"]}
    assert {"Lavrov", "North Korea", "Kim Jong Un"} <= names, names
    assert found["article"]["summary"]
    page = await client.get(f"/articles/{identifier}")
    assert page.status_code == 200
    assert "Lavrov" in page.text


async def test_a_feed_on_the_compose_network_is_polled_and_its_entries_served(
    stack: Deployed, client: httpx.AsyncClient
) -> None:
    site = stack.site
    for name in ("first", "second"):
        (site / f"{name}.html").write_bytes(NINE_NEWS)
    (site / "feed.xml").write_bytes(
        rss(
            [
                {"title": "First entry", "link": "http://web:8000/first.html", "summary": "Short."},
                {
                    "title": "Second entry",
                    "link": "http://web:8000/second.html",
                    "summary": "Short.",
                },
            ],
            title="Compose test feed",
        )
    )
    for path in site.iterdir():
        path.chmod(0o644)
    registered = await client.post(
        "/v1/feeds", json={"url": "http://web:8000/feed.xml"}, headers=stack.auth
    )
    assert registered.status_code == 201, registered.text
    feed = registered.json()["id"]

    async def published() -> dict[str, Any] | None:
        status = (await client.get(f"/v1/feeds/{feed}")).json()["status"]
        return status if status["articles_published"] == 2 else None

    status = await eventually(published, timeout=180, what="the feed's two entries to be published")
    assert status["state"] == "ok", status
    for name in ("first", "second"):
        identifier = article_id(canonicalize_url(f"http://web:8000/{name}.html"))

        async def served(identifier: str = identifier) -> dict[str, Any] | None:
            response = await client.get(f"/v1/articles/{identifier}")
            return response.json() if response.status_code == 200 else None

        article = await eventually(served, timeout=180, what=f"the feed's {name} entry")
        # The page was fetched from the web container and its article extracted.
        assert NINE_NEWS_FIRST[:60] in article["text"]


async def test_every_service_killed_under_load_loses_and_duplicates_nothing(
    stack: Deployed, client: httpx.AsyncClient
) -> None:
    submissions = corpus_articles("compose-kills", 150, offset=REFERENCE_COUNT)
    faults: list[str] = []

    async def kill_and_restart() -> None:
        await asyncio.sleep(4)
        await asyncio.to_thread(stack.compose, "kill", "--signal", "SIGKILL", *NEWSWIRE_SERVICES)
        faults.append("SIGKILL " + " ".join(NEWSWIRE_SERVICES))
        await asyncio.sleep(2)
        await asyncio.to_thread(stack.compose, "up", "--detach", "--wait", "--no-build")
        faults.append("up")

    await asyncio.gather(
        submit_all(client, stack.auth, bodies_of(submissions), rate=10.0), kill_and_restart()
    )
    assert faults == ["SIGKILL " + " ".join(NEWSWIRE_SERVICES), "up"]
    ids = ids_of(submissions)
    model = await settled_read_model(stack, client, ids)
    assert all(article["version"] == 1 for article in model.values())
    assert all(article["story_id"] for article in model.values())
    assert sum(bool(article["entities"]) for article in model.values()) >= 0.9 * len(model)
    # One article per URL: the listing holds each of them exactly once.
    ours = [identifier for identifier, url in await listed(client) if "/compose-kills/" in url]
    assert sorted(ours) == sorted(ids)
    # No related list names an article twice.
    for article in model.values():
        related = [entry[0] for entry in article["related"]]
        assert len(related) == len(set(related))


async def test_down_then_up_keeps_the_data(stack: Deployed, client: httpx.AsyncClient) -> None:
    before = await listed(client)
    await asyncio.to_thread(stack.compose, "down")
    await asyncio.to_thread(stack.compose, "up", "--detach", "--wait", "--no-build")
    after = await listed(client)
    assert sorted(after) == sorted(before)
    # And the pipeline carries on from where it was: a new article, nothing redone.
    submission = corpus_articles("compose-after-restart", 1, offset=REFERENCE_COUNT + 150)[0]
    accepted = await client.post("/v1/articles", json=submission.body, headers=stack.auth)
    assert accepted.status_code == 202, accepted.text
    model = await settled_read_model(stack, client, [submission.id], timeout=240)
    assert next(iter(model.values()))["version"] == 1
    assert len(await listed(client)) == len(before) + 1


async def test_two_of_enrich_and_relate_give_the_read_model_of_one_each(
    tmp_path: Path,
) -> None:
    assert len(_first_read_model) == REFERENCE_COUNT, "runs after the first test of the module"
    submissions = reference_corpus()
    async with deployed(tmp_path, scale={"enrich": 2, "relate": 2}) as scaled:
        running = scaled.compose("ps", "--services", "--status", "running").split()
        assert sorted(running).count("enrich") == 1  # one service ...
        containers = scaled.compose("ps", "--quiet", "enrich", "relate").split()
        assert len(containers) == 4  # ... two containers each
        async with httpx.AsyncClient(base_url=scaled.gateway_url, timeout=30) as http:
            await submit_all(http, scaled.auth, bodies_of(submissions), rate=20.0)
            model = await settled_read_model(scaled, http, ids_of(submissions))
        engine = await asyncio.to_thread(one_engine_stories, scaled, ids_of(submissions))
    # Stories are decided in ingestion order, and each deployment ingests the submissions in
    # an order of its own (they arrive on several partitions at once): the reference for this
    # one's stories is one engine given the articles it enriched.
    model = _by_story_members(model)
    expected = _by_story_members({i: {"story_id": story} for i, story in engine.items()})
    wrong = {
        i: (a["story_id"], expected[i]["story_id"])
        for i, a in model.items()
        if a["story_id"] != expected[i]["story_id"]
    }
    assert not wrong, wrong
    # Everything else is what the one-of-each deployment served.
    model = {i: {k: v for k, v in a.items() if k != "story_id"} for i, a in model.items()}
    first = {
        i: {k: v for k, v in a.items() if k != "story_id"} for i, a in _first_read_model.items()
    }
    differences = {
        identifier: {
            field: (value, first[identifier][field])
            for field, value in article.items()
            if value != first[identifier][field]
        }
        for identifier, article in model.items()
        if article != first[identifier]
    }
    assert not differences, differences


def _by_story_members(model: dict[str, Any]) -> dict[str, Any]:
    """Each article's story as the articles in it: a story is named after its first article
    taken in, and each deployment takes the same submissions in at times of its own."""
    members: dict[str, list[str]] = {}
    for identifier, article in sorted(model.items()):
        members.setdefault(article["story_id"], []).append(identifier)
    return {
        identifier: {**article, "story_id": tuple(members[article["story_id"]])}
        for identifier, article in model.items()
    }
