"""The simulated news web itself: the same web for the same seed, documents that parse, and
a server that answers as its model says (the soak test and the feeds benchmark rely on it)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import feedparser
import httpx
import pytest

from tests.newsweb import NewsWeb, Web, WebSettings
from tests.newsweb.render import feed_document, page_document


@pytest.mark.unit
def test_one_seed_is_one_web() -> None:
    first, second = Web(WebSettings(outlets=12), 8000), Web(WebSettings(outlets=12), 8000)
    now = WebSettings().start
    assert first.truth(now) == second.truth(now)
    assert Web(WebSettings(outlets=12, seed=8), 8000).truth(now) != first.truth(now)


@pytest.mark.unit
def test_every_feed_format_parses_and_outlets_share_entries_between_feeds() -> None:
    web = Web(WebSettings(outlets=20), 8000)
    now = web.settings.start
    formats = Counter()
    for feed in web.feeds():
        body, _ = feed_document(web, feed, now)
        if feed.format == "json":  # feedparser reads XML only; ingest reads JSON Feed itself
            links = [item["url"] for item in json.loads(body)["items"]]
        else:
            parsed = feedparser.parse(body)
            assert not parsed.bozo, (feed, parsed.bozo_exception)
            links = [entry.link for entry in parsed.entries]
        assert links == [web.story_url(s) for s in web.entries(feed, now)]
        formats[feed.format] += 1
    assert set(formats) == {"rss2", "rss091", "atom", "rdf", "json"}
    truth = web.truth(now)
    assert any(len(story["feeds"]) > 1 for story in truth)
    assert any(story["syndicated"] for story in truth)
    assert {story["page"] for story in truth} >= {"ok", "not_found", "gone", "unresolvable"}


@pytest.mark.unit
def test_an_edited_story_reads_differently_after_its_edit() -> None:
    web = Web(WebSettings(outlets=20, edited_share=1.0), 8000)
    story = web.stories(0, web.settings.start)[0]
    assert story.edited is not None
    before, _ = page_document(web, story, story.edited - timedelta(seconds=1))
    after, _ = page_document(web, story, story.edited)
    assert b"Update:" in after
    assert b"Update:" not in before


@pytest.mark.integration
def test_the_server_answers_conditional_gets_and_page_kinds() -> None:
    with NewsWeb(WebSettings(outlets=8, time_scale=1.0)) as news:
        url = news.feed_urls()[0]
        first = httpx.get(url)
        assert first.status_code == 200
        assert "max-age=" in first.headers["cache-control"]
        again = httpx.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
        stories = news.truth()["stories"]
        by_kind = {story["page"]: story["url"] for story in stories}
        assert httpx.get(by_kind["gone"]).status_code == 410
        assert httpx.get(by_kind["not_found"]).status_code == 404
        paywalled = httpx.get(by_kind["paywalled"])
        assert paywalled.status_code == 200
        assert b"Subscribe" in paywalled.content
        assert news.log()["feeds"][0]["feed"] == url
