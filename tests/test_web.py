"""The reader's web pages in a real headless browser (Debian's Chromium, driven by
Playwright), against the four services as processes on the real broker and store.

Leaves a screenshot of the article page in ``test-results/article-page.png``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from newswire_devstack.browser import CHROMIUM, CHROMIUM_ARGS
from playwright.async_api import Browser, Page, async_playwright, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from tests.support import eventually

pytestmark = pytest.mark.e2e

REPO = Path(__file__).parents[1]
SEED = json.loads((REPO / "data" / "sample" / "seed" / "articles.json").read_text())
RESULTS = REPO / "test-results"
SCREENSHOT = RESULTS / "article-page.png"

# Written for this test: the same people and places as the seed's main article.
LATE_TEXT = (
    "Russian Foreign Minister Sergei Lavrov arrived in Pyongyang on Friday for talks with "
    "North Korean leader Kim Jong Un, the Korean Central News Agency reported.\n\n"
    "The visit comes weeks after Sergei Shoigu, Russia's top security official, met Kim in "
    "Pyongyang. South Korea's spy agency says North Korea will send military construction "
    "workers and deminers to Russia's Kursk region, after sending troops, artillery and "
    "ballistic missiles for Russia's war against Ukraine.\n\n"
    "Kim and President Vladimir Putin signed a strategic partnership agreement in Pyongyang "
    "in June 2024, pledging mutual aid if either country is attacked."
)


@dataclass(frozen=True)
class Seeded:
    main: dict[str, Any]
    """The seed page's main article, as the API serves it (with its story)."""


async def _post(client: httpx.AsyncClient, pipeline: Any, body: dict[str, Any]) -> str:
    response = await client.post("/v1/articles", json=body, headers=pipeline.auth)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def _served(client: httpx.AsyncClient, identifier: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await client.get(f"/v1/articles/{identifier}")
        return response.json() if response.status_code == 200 else None

    return await eventually(probe, timeout=90, what=f"article {identifier}")


@pytest.fixture(scope="module")
async def client(pipeline: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=15) as client:
        yield client


@pytest.fixture(scope="module")
async def seeded(pipeline: Any, client: httpx.AsyncClient) -> Seeded:
    """The seed page's main article and two related reports, served with relations."""
    base = f"https://news.example/{pipeline.namespace.name}/web"
    ids = [
        await _post(
            client,
            pipeline,
            {k: SEED[n][k] for k in ("title", "text", "source", "published_at")}
            | {"url": f"{base}/seed-{n}"},
        )
        for n in (0, 1, 3)
    ]
    for identifier in ids:
        await _served(client, identifier)

    async def related_listed() -> list[dict[str, Any]] | None:
        response = await client.get(f"/v1/articles/{ids[0]}/related")
        return (response.json()["items"] or None) if response.status_code == 200 else None

    await eventually(related_listed, timeout=60, what="the main article's related list")

    async def in_a_story() -> dict[str, Any] | None:
        response = await client.get(f"/v1/articles/{ids[0]}")
        article = response.json() if response.status_code == 200 else None
        if not article or not article["story_id"]:
            return None
        story = await client.get(f"/v1/stories/{article['story_id']}")
        return article if story.status_code == 200 else None

    main = await eventually(in_a_story, timeout=60, what="the main article's story")
    return Seeded(main=main)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make provision` (newswire-dev provision)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            await browser.close()


async def _submit_comment(page: Page, author: str, body: str) -> None:
    """Fill in and send the comment form; if this client is rate limited (other tests post
    comments from the same address), wait as told and send it again."""
    for _ in range(4):
        await page.fill("#comment-author", author)
        await page.fill("#comment-body", body)
        async with page.expect_response(
            lambda r: r.request.method == "POST" and r.url.endswith("/comments")
        ) as posting:
            await page.click(".comment-form button[type=submit]")
        answered = await posting.value
        posted = page.locator("#comments .comment-body", has_text=body)
        refused = page.locator("#comments .error")
        await expect(posted.or_(refused).first).to_be_visible(timeout=15_000)
        if await posted.count():
            return
        try:
            message = await refused.inner_text(timeout=5_000)
        except PlaywrightTimeoutError:
            section = (
                await page.locator("#comments").inner_html()
                if await page.locator("#comments").count()
                else "(no #comments)"
            )
            raise AssertionError(
                f"the comments section changed under the test: POST answered "
                f"{answered.status}, page now {page.url}, #comments: {section[:2000]}"
            ) from None
        wait = re.search(r"in (\d+) s", message)
        assert wait, f"the comment was refused: {message}"
        await asyncio.sleep(int(wait.group(1)) + 1)
    raise AssertionError("the comment was refused again and again")


async def test_article_page_related_ai_box_and_comments(
    pipeline: Any, seeded: Seeded, browser: Browser
) -> None:
    main = seeded.main
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        response = await page.goto(f"{pipeline.gateway_url}/articles/{main['id']}")
        assert response is not None
        assert response.status == 200

        await expect(page.locator("h1")).to_have_text(SEED[0]["title"])
        meta = await page.locator(".article-header .meta").text_content() or ""
        assert SEED[0]["source"] in meta
        assert re.search(r"\d+ (minute|hour|day|month|year)s? ago", meta), meta
        assert "Kim has sent thousands of combat troops" in (
            await page.locator(".text").text_content() or ""
        )

        ai_box = page.locator("#ai-box")
        await expect(ai_box.locator(".summary")).not_to_be_empty()
        await expect(ai_box.locator('[data-group="people"]')).to_contain_text("Kim Jong Un")
        await expect(ai_box.locator('[data-group="places"]')).to_contain_text("Pyongyang")
        await expect(ai_box.locator('[data-group="organisations"] a').first).to_be_visible()
        person = ai_box.locator('[data-group="people"] a', has_text="Kim Jong Un").first
        assert await person.get_attribute("href") == "/entities/Kim%20Jong%20Un"

        # Related articles: outlet, time ago, title linking to the article, snippet.
        related = page.locator("#related .related-item")
        await expect(related.first).to_be_visible()
        titles = await page.locator("#related .related-item h3").all_text_contents()
        assert {t.strip() for t in titles} & {s["title"] for s in SEED[1:]}, titles
        seed = next(s for s in SEED[1:] if s["title"] in {t.strip() for t in titles})
        item = related.filter(has_text=seed["title"]).first
        await expect(item.locator(".outlet")).to_have_text(seed["source"])
        await expect(item.locator("time")).to_contain_text("ago")
        await expect(item.locator(".snippet")).not_to_be_empty()
        assert re.fullmatch(
            r"/articles/[0-9a-f]{32}", await item.locator("h3 a").get_attribute("href") or ""
        )
        story_link = page.locator(".story-link a")
        assert await story_link.get_attribute("href") == f"/stories/{main['story_id']}"

        # A comment, posted in place (JavaScript), shown as the text it is.
        body = f"Good overview of <b>bold</b> diplomacy {pipeline.namespace.name}"
        await _submit_comment(page, "Web reader", body)
        comments = page.locator("#comments")
        assert body in (await comments.text_content() or "")
        assert await comments.locator("b").count() == 0
        await expect(comments.locator(".author").last).to_have_text("Web reader")

        RESULTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert SCREENSHOT.stat().st_size > 10_000
        assert errors == []
    finally:
        await context.close()


async def test_article_page_works_without_javascript(
    pipeline: Any, seeded: Seeded, browser: Browser
) -> None:
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    try:
        url = f"{pipeline.gateway_url}/articles/{seeded.main['id']}"
        response = await page.goto(url)
        assert response is not None
        assert response.status == 200
        await expect(page.locator("h1")).to_have_text(SEED[0]["title"])
        await expect(page.locator("#related .related-item").first).to_be_visible()

        body = f"Read without scripts <i>at all</i> {pipeline.namespace.name}"
        await _submit_comment(page, "Plain reader", body)
        assert page.url == f"{url}#comments", "the form posted and was sent back (303)"
        assert await page.locator("#comments i").count() == 0
        assert body in (await page.locator("#comments").text_content() or "")
    finally:
        await context.close()


async def test_related_list_updates_live(
    pipeline: Any, seeded: Seeded, browser: Browser, client: httpx.AsyncClient
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(f"{pipeline.gateway_url}/articles/{seeded.main['id']}")
        await expect(page.locator("#related .related-item").first).to_be_visible()
        await page.evaluate("window.notReloaded = true")
        await asyncio.sleep(0.5)  # let the page's EventSource connect

        title = f"Lavrov meets Kim Jong Un in Pyongyang ({pipeline.namespace.name})"
        started = time.monotonic()
        await _post(
            client,
            pipeline,
            {
                "url": f"https://news.example/{pipeline.namespace.name}/web/late",
                "title": title,
                "text": LATE_TEXT,
                "source": "Late Wire",
                "published_at": "2025-07-11T08:00:00Z",
            },
        )
        await expect(page.locator("#related")).to_contain_text(title, timeout=60_000)
        assert await page.evaluate("window.notReloaded") is True, "swapped in, not reloaded"
        print(f"live update shown {time.monotonic() - started:.1f} s after posting")
    finally:
        await context.close()


async def test_front_story_and_entity_pages(
    pipeline: Any, seeded: Seeded, client: httpx.AsyncClient
) -> None:
    story = (await client.get(f"/v1/stories/{seeded.main['story_id']}")).json()

    async def front_lists_story() -> str | None:
        page = await client.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        return page.text if f'href="/stories/{story["id"]}"' in page.text else None

    await eventually(front_lists_story, timeout=30, what="the story on the front page")

    story_page = await client.get(f"/stories/{story['id']}")
    assert story_page.status_code == 200
    assert _escaped(story["title"]) in story_page.text
    assert f'href="/articles/{seeded.main["id"]}"' in story_page.text

    entity = await client.get(f"/entities/{quote('Kim Jong Un', safe='')}")
    assert entity.status_code == 200
    assert "Kim Jong Un" in entity.text
    assert f'href="/articles/{seeded.main["id"]}"' in entity.text

    for path in ("/articles/" + "0" * 32, "/stories/no-such-story", "/entities/Nobody%20Atall"):
        missing = await client.get(path)
        assert missing.status_code == 404, path
        assert missing.headers["content-type"].startswith("text/html"), path

    # The plain form path: an invalid comment comes back as the page with the error.
    refused = await client.post(
        f"/articles/{seeded.main['id']}/comments", data={"author": "  ", "body": "kept text"}
    )
    assert refused.status_code == 422
    assert "Name: must not be blank" in refused.text
    assert "kept text</textarea>" in refused.text


def _escaped(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )
