"""Soak: two ingest instances poll a simulated news web for simulated hours; one is killed
(SIGKILL) and started again midway. Afterwards every entry the web showed was published
exactly once (a new version only for an edit or an upgrade from the feed's text to the
page's), every feed was polled on schedule with none stalled, each feed's count equals
what it published, nothing was dead-lettered, and every article is served by the gateway.

The web (tests/newsweb) has ~100 feeds of 34 outlets in five formats sharing entries, pages
that are slow, 404, 410, 503, 429, paywalled, on hosts that never resolve, in three
charsets; its time runs 120 times faster (NEWSWIRE_TEST_SOAK_SECONDS of polling, 150 by
default, are four simulated hours, after three of backlog). The suite runs its own pipeline
in its own namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from newswire_contracts import article_id, canonicalize_url, feed_id
from pydantic_settings import BaseSettings, SettingsConfigDict

from conftest import Infrastructure, Namespace, Pipeline, running_pipeline
from tests.httpserver import TestServer
from tests.newsweb import NewsWeb, WebSettings
from tests.support import eventually, header, read_all

pytestmark = pytest.mark.soak

REPORT = Path(__file__).parents[1] / "test-results" / "feed-soak.json"

# Pages whose text arrives, at once or after a retry; the others never give an article.
PAGE_ARRIVES = {"ok", "slow", "latin1", "meta_charset", "flaky", "throttled"}
FIRST_FETCH_FAILS_FOR_NOW = {"flaky", "throttled"}


class SoakSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_TEST_SOAK_")

    seconds: float = 120.0
    """Real seconds of polling before the web's truth is taken."""
    drain_seconds: float = 30.0
    """Then polling goes on this long, for the last entries and pages to be read."""
    outlets: int = 34
    backlog_hours: float = 3.0
    time_scale: float = 120.0
    stall_seconds: float = 45.0
    """A gap between two polls of a feed longer than this is a stall."""


WEB_ENV = {
    "NEWSWIRE_FETCH_ALLOW_HOSTS": NewsWeb.ALLOW_NETWORK,
    "NEWSWIRE_FEED_DEFAULT_INTERVAL_SECONDS": "3",
    "NEWSWIRE_FEED_MIN_INTERVAL_SECONDS": "2",
    "NEWSWIRE_FEED_MAX_INTERVAL_SECONDS": "5",
    "NEWSWIRE_FEED_MAX_BACKOFF_SECONDS": "6",
    "NEWSWIRE_PAGE_RETRY_SECONDS": "1",
    "NEWSWIRE_PAGE_RETRY_MAX_SECONDS": "4",
    "NEWSWIRE_PAGE_RETRY_ATTEMPTS": "5",
    "NEWSWIRE_FEED_WATCHDOG_SECONDS": "5",
    "NEWSWIRE_FETCH_TIMEOUT_SECONDS": "10",
}


@dataclass
class Published:
    """What articles.ingested carried, per article."""

    events: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Event ids of each version: one each, however often it was published."""
    raw: Counter[int] = field(default_factory=Counter)
    feeds: dict[int, str | None] = field(default_factory=dict)
    """The feed that published each version."""
    history: list[str] = field(default_factory=list)
    """Each version as published: its source, summary or not, title."""
    last: dict[str, Any] = field(default_factory=dict)

    @property
    def versions(self) -> list[int]:
        return sorted(self.events)


async def ingested(pipeline: Pipeline) -> dict[str, Published]:
    records = await read_all(
        pipeline.infrastructure.kafka_bootstrap_servers,
        pipeline.namespace.topic("articles.ingested"),
        timeout=180,
    )
    found: dict[str, Published] = defaultdict(Published)
    for record in records:
        value = json.loads(record.value)
        published = found[value["id"]]
        published.events[value["version"]].add(header(record, "ce_id") or "")
        published.raw[value["version"]] += 1
        published.feeds[value["version"]] = value.get("feed_id")
        published.history.append(
            f"v{value['version']} {value.get('text_source')}"
            f"{' summary' if value.get('summary_only') else ''} {value['title'][:40]!r}"
        )
        if value["version"] >= max(published.events):
            published.last = value
    return found


@pytest.fixture(scope="module")
async def pipeline(infrastructure: Infrastructure, web: TestServer) -> AsyncIterator[Pipeline]:
    """A pipeline of the suite's own, in a namespace of its own, allowed to fetch the web."""
    async with running_pipeline(
        infrastructure, Namespace(f"s{uuid.uuid4().hex[:10]}"), web, env=WEB_ENV
    ) as started:
        yield started


@pytest.mark.timeout(900)
async def test_feeds_are_read_exactly_once_through_kills_with_no_feed_stalled(
    pipeline: Pipeline,
) -> None:
    settings = SoakSettings()
    stack = pipeline.stack
    web_settings = WebSettings(
        outlets=settings.outlets,
        time_scale=settings.time_scale,
        backlog_hours=settings.backlog_hours,
    )
    with NewsWeb(web_settings) as news:
        await stack.start_instance("ingest", "ingest-2", port=_free_port())
        try:
            # Both instances in the group before the first feed: the rebalance a second instance
            # causes is tested by the kill below, not by the registration.
            await asyncio.sleep(8)
            started = time.time()
            feeds = {url: feed_id(canonicalize_url(url)) for url in news.feed_urls()}
            async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=30) as client:
                for url in feeds:
                    response = await client.post(
                        "/v1/feeds", json={"url": url}, headers=pipeline.auth
                    )
                    assert response.status_code == 201, response.text

                # Midway, one instance is killed without warning and started again.
                await asyncio.sleep(settings.seconds * 0.4)
                killed_at = time.time()
                assert stack.processes.kill("ingest", stack.marker("ingest")), (
                    "ingest was not running"
                )
                await asyncio.sleep(5)
                await stack.up(["ingest"], echo=False)
                await asyncio.sleep(max(0.0, started + settings.seconds - time.time()))

                shown = news.truth()  # every entry shown by now must be published
                ended = time.time()
                # Time for the last entries (and pages) the web showed to be read, then both
                # instances stop (SIGTERM: what is under way finishes), so that what was
                # published and what was counted are read at rest.
                await asyncio.sleep(settings.drain_seconds)
                running_at = datetime.now(UTC)
                running = {
                    url: (await client.get(f"/v1/feeds/{identifier}")).json()["status"]
                    for url, identifier in feeds.items()
                }
                stack.down(["ingest"], echo=False)
                stack.stop_instance("ingest", "ingest-2")
                stopped = time.time()
                final = news.truth()
                log = news.log()
                statuses = {
                    url: (await client.get(f"/v1/feeds/{identifier}")).json()["status"]
                    for url, identifier in feeds.items()
                }
                published = await ingested(pipeline)
                served = await _served_through_the_gateway(client, published)
            dead_letters = {
                name: await read_all(
                    pipeline.infrastructure.kafka_bootstrap_servers, pipeline.namespace.topic(name)
                )
                for name in ("ingest.dlq", "enrich.dlq", "relate.dlq")
            }

        finally:
            # Also when the test fails: it is not one of the services the fixture stops.
            stack.stop_instance("ingest", "ingest-2")

    problems: list[str] = []
    # Every entry shown is published (a story retracted early may have come and gone
    # unseen while its feed's owner was down: it counts only if it was published).
    must = {article_id(canonicalize_url(story["url"])) for story in shown["stories"]}
    end = datetime.fromisoformat(final["now"])
    for story in final["stories"]:
        identifier = article_id(canonicalize_url(story["url"]))
        if identifier not in published:
            if identifier in must and story["retracted_at"] is None:
                problems.append(f"never published: {story['url']} ({story['page']})")
            continue
        problems.extend(
            _version_problems(story, published[identifier], end, settled=identifier in must)
        )

    # Exactly once: one event (one event id) per article and version, every version in order.
    for identifier, item in published.items():
        if item.versions != list(range(1, len(item.versions) + 1)):
            problems.append(f"{identifier}: versions {item.versions}")
        problems.extend(
            f"{identifier} v{v}: {len(ids)} different events"
            for v, ids in item.events.items()
            if len(ids) != 1
        )

    # Each feed's count is what it published.
    by_feed = Counter(fid for item in published.values() for fid in item.feeds.values())
    for url, status in statuses.items():
        if status["articles_published"] != by_feed.get(feeds[url], 0):
            problems.append(
                f"{url}: counts {status['articles_published']}, "
                f"published {by_feed.get(feeds[url], 0)}"
            )

    # Every feed polled on schedule: no gap between two polls longer than the stall bound,
    # from its first poll until the instances stopped, the kill included; and none was left
    # due in the past while they ran.
    polls: dict[str, list[float]] = defaultdict(list)
    for request in log["feeds"]:
        polls[request["feed"]].append(request["at"])
    gaps: list[tuple[float, str]] = []
    for url in feeds:
        times = sorted(t for t in polls.get(url, []) if t <= stopped)
        if not times:
            problems.append(f"{url}: never polled")
            continue
        gaps.extend((b - a, url) for a, b in itertools.pairwise(times))
        gaps.append((stopped - times[-1], url))
    stalls = [(gap, url) for gap, url in gaps if gap > settings.stall_seconds]
    problems.extend(f"stalled {gap:.0f} s: {url}" for gap, url in stalls)
    for url, status in running.items():
        due = datetime.fromisoformat(status["next_fetch_at"].replace("Z", "+00:00"))
        if due < running_at - timedelta(seconds=settings.stall_seconds):
            problems.append(f"{url}: due since {due} and not polled")

    # Nothing dead-lettered, every article served at its latest version.
    problems.extend(f"dead letter in {name}" for name, letters in dead_letters.items() if letters)
    problems.extend(f"not served: {i}" for i in published if i not in served)

    versions = sum(len(item.events) for item in published.values())
    repeats = sum(sum(item.raw.values()) - len(item.events) for item in published.values())
    upgraded = sum(
        1
        for item in published.values()
        if item.last.get("text_source") == "page" and len(item.events) > 1
    )
    summary = (
        f"soak: {len(feeds)} feeds, {len(shown['stories'])} entries shown "
        f"({len(final['stories'])} by the end), {len(published)} articles, {versions} versions "
        f"({upgraded} ending with their page's text after an earlier version), {repeats} "
        f"events published again under the same id, 1 kill (SIGKILL at "
        f"{killed_at - started:.0f} s), {len(log['feeds'])} polls, longest gap between two "
        f"polls of a feed {max(g for g, _ in gaps):.1f} s, stalls found: {len(stalls)}; "
        f"{ended - started:.0f} s of polling "
        f"({(ended - started) * settings.time_scale / 3600:.1f} simulated hours)"
    )
    print(f"\n{summary}", flush=True)
    # Kept where CI's output can be read back, as the contract ring keeps its figures.
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps({"summary": summary, "problems": problems[:40]}, indent=2) + "\n")
    assert not problems, "\n".join(problems[:40])


def _version_problems(
    story: dict[str, Any], item: Published, end: datetime, *, settled: bool
) -> list[str]:
    """What is wrong with the versions of one story's article; ``settled``: it was shown
    long enough before the end for its page to have arrived."""
    problems = []
    url, page = story["url"], story["page"]
    edited = story["edited_at"] is not None and datetime.fromisoformat(story["edited_at"]) <= end
    upgradable = page in FIRST_FETCH_FAILS_FOR_NOW or story["full_content_feed"]
    allowed = 1 + edited + upgradable
    if len(item.events) > allowed:
        problems.append(
            f"{url}: {len(item.events)} versions, at most {allowed} expected ({page}; "
            f"{item.history})"
        )
    last = item.last
    arrives = page in PAGE_ARRIVES or story["full_content_feed"]
    if settled and arrives and last["summary_only"]:
        problems.append(f"{url}: still the feed's summary although its page is {page}")
    if not arrives and not last["summary_only"]:
        problems.append(f"{url}: full text from a page that is {page}")
    edit_seen = story["edited_at"] is not None and datetime.fromisoformat(
        story["edited_at"]
    ) <= end - timedelta(minutes=30)
    if edit_seen and story["retracted_at"] is None and last["title"] != story["title"]:
        problems.append(f"{url}: edit not published (last title {last['title']!r})")
    return problems


async def _served_through_the_gateway(
    client: httpx.AsyncClient, published: dict[str, Published]
) -> set[str]:
    """The articles the gateway serves at their latest version (waiting for enrich and relate)."""
    waiting = {identifier: max(item.events) for identifier, item in published.items()}
    served: set[str] = set()

    async def all_served() -> bool:
        for identifier, version in list(waiting.items()):
            response = await client.get(f"/v1/articles/{identifier}")
            if response.status_code == 200 and response.json()["version"] == version:
                served.add(identifier)
                del waiting[identifier]
        return not waiting

    with contextlib.suppress(AssertionError):  # what is missing is reported with the rest
        await eventually(all_served, timeout=300, interval=3, what="every article to be served")
    return served


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
