"""Feeds at scale: 1,000 feeds of the simulated news web (tests/newsweb) read by one ingest
instance against the local Kafka and store, in a namespace of its own.

- Cold start: the 1,000 feeds are registered at once (the IngestFeed commands the gateway
  sends) to an ingest that has none, with an operator's intervals (5 to 15 minutes), on a web
  whose time stands (nearly) still. Measured: until every feed was polled once, and until
  every entry each feed showed at its first poll was published ("fully read"; its page
  fetched and extracted when the feed has only a summary, or its summary published when the
  page cannot be had). The web's failing feeds answer their first poll with an error or a
  broken document; they add nothing to wait for.
- Steady state: then the same web (same URLs) with its time running 60 times faster, so its
  ~340 outlets publish several stories a second, and every feed made due every 1 to 2
  seconds, more than one instance can serve, for STEADY_SECONDS after a warm-up: the polls a
  second it sustains, entries read and articles published a second, and CPU per poll:
  ingest's CPU seconds (from /proc) over the polls the web answered, beside the web's own CPU;
  with the default of 8 feeds polled at once, and with 32.

Figures are measured on FerretDB, on whatever else the machine is doing.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer
from newswire_contracts import (
    IngestFeed,
    article_id,
    canonicalize_url,
    feed_id,
    topics,
)
from newswire_contracts.readmodel import FEED_STATUS_COLLECTION
from newswire_devstack.stack import Stack
from pymongo import AsyncMongoClient
from tqdm import tqdm

from tests.newsweb import NewsWeb, Web, WebSettings
from tests.support import partitions_of

from .pipeline import scrape
from .stack import (
    BenchStack,
    free_port,
    infrastructure,
    process_cpu_seconds,
    publish_all,
    service_stack,
)

FEEDS = 1_000
TIME_SCALE = 60.0
BACKLOG_HOURS = 6.0
COLD_TIMEOUT = 1_200.0
WARM_UP_SECONDS = 20.0
STEADY_SECONDS = 60.0
CONCURRENCY = (8, 32)
"""Feeds polled at once by the instance: the default, and more."""
STEPS = 2 + len(CONCURRENCY)

COMMON_ENV = {
    "NEWSWIRE_FETCH_ALLOW_HOSTS": NewsWeb.ALLOW_NETWORK,
    "NEWSWIRE_FEED_MAX_BACKOFF_SECONDS": "60",
    "NEWSWIRE_PAGE_RETRY_SECONDS": "30",
}
COLD_ENV = {
    **COMMON_ENV,
    "NEWSWIRE_FEED_DEFAULT_INTERVAL_SECONDS": "300",
    "NEWSWIRE_FEED_MIN_INTERVAL_SECONDS": "300",
    "NEWSWIRE_FEED_MAX_INTERVAL_SECONDS": "900",
}
STEADY_ENV = {
    **COMMON_ENV,
    "NEWSWIRE_FEED_DEFAULT_INTERVAL_SECONDS": "1",
    "NEWSWIRE_FEED_MIN_INTERVAL_SECONDS": "1",
    "NEWSWIRE_FEED_MAX_INTERVAL_SECONDS": "2",
    "NEWSWIRE_FEED_MAX_BACKOFF_SECONDS": "2",
}


def outlets_for(feeds: int) -> int:
    """The fewest outlets of the default web that have ``feeds`` feeds between them."""
    outlets = feeds // 3
    while len(Web(WebSettings(outlets=outlets), 0).feeds()) < feeds:
        outlets += 10
    return outlets


class Published:
    """Article ids on articles.ingested and when each first came (read from the beginning)."""

    def __init__(self, bench: BenchStack) -> None:
        self._bench = bench
        self.first: dict[str, float] = {}
        self.events = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        bootstrap = self._bench.settings.kafka_bootstrap_servers
        partitions = await partitions_of(bootstrap, self._bench.topic(topics.ARTICLES_INGESTED))
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        self._task = asyncio.create_task(self._follow(consumer))

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        self.first.setdefault((record.key or b"").decode(), record.timestamp / 1000)
                        self.events += 1
        finally:
            await consumer.stop()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def register(bench: BenchStack, urls: list[str]) -> None:
    """What POST /v1/feeds publishes for each feed, all at once."""
    commands = [
        IngestFeed(
            kind="feed",
            action="subscribe",
            feed_id=feed_id(canonicalize_url(url)),
            url=url,
            requested_at=datetime.now(UTC),
        )
        for url in urls
    ]
    await publish_all(bench, commands)


async def statuses(database: Any) -> list[dict[str, Any]]:
    fields = {"last_fetch_at": 1, "entries_seen": 1, "articles_published": 1, "pages_pending": 1}
    return [d async for d in database[FEED_STATUS_COLLECTION].find({}, fields)]


async def measure(progress: tqdm[Any]) -> dict[str, Any]:
    outlets = outlets_for(FEEDS)
    port = free_port()
    async with infrastructure("feeds") as bench:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            bench.settings.mongodb_url, tz_aware=True
        )
        database = client[bench.database]
        try:
            # The cold start on a web whose time stands (almost) still, so that what the
            # feeds show does not move while they are first read; then the same web (same
            # URLs), its time running 60 times faster.
            still = WebSettings(outlets=outlets, time_scale=1.0, backlog_hours=BACKLOG_HOURS)
            with NewsWeb(still, port=port) as news:
                urls = news.feed_urls()[:FEEDS]
                cold = await cold_start(bench, news, database, urls)
            progress.update(2)
            running = WebSettings(
                outlets=outlets, time_scale=TIME_SCALE, backlog_hours=BACKLOG_HOURS
            )
            steady = {}
            with NewsWeb(running, port=port) as news:
                for concurrency in CONCURRENCY:
                    steady[str(concurrency)] = await steady_state(
                        bench, news, database, concurrency
                    )
                    progress.update(1)
        finally:
            await client.close()
    return {
        "feeds": len(urls),
        "outlets": outlets,
        "time_scale": TIME_SCALE,
        "cold_start": cold,
        "steady": steady,
    }


async def cold_start(
    bench: BenchStack, news: NewsWeb, database: Any, urls: list[str]
) -> dict[str, Any]:
    """Until every feed was polled once, and every entry its first answer showed published."""
    stack = service_stack(bench, COLD_ENV)
    await stack.up(["ingest"], echo=False)
    published = Published(bench)
    await published.start()
    web = news.web
    feeds = {web.feed_url(feed): feed for feed in web.feeds()}
    try:
        registered = time.time()
        await register(bench, urls)
        first: dict[str, dict[str, Any]] = {}
        expected: set[str] | None = None
        while time.time() - registered < COLD_TIMEOUT:
            await asyncio.sleep(3)
            for request in news.log(since=registered)["feeds"]:
                first.setdefault(request["feed"], request)
            if expected is None and all(url in first for url in urls):
                expected = set()
                for url in urls:
                    answer = first[url]
                    if answer["status"] == 200 and not answer.get("broken"):
                        shown = web.entries(feeds[url], datetime.fromisoformat(answer["simulated"]))
                        expected |= {article_id(canonicalize_url(web.story_url(s))) for s in shown}
            if expected is not None and expected <= published.first.keys():
                break
        documents = await statuses(database)
        pages = sum(news.log(since=time.time())["pages"].values())
    finally:
        await published.stop()
        stack.down(["ingest"], echo=False)
    polled = [first[url]["at"] - registered for url in urls if url in first]
    done = expected is not None and expected <= published.first.keys()
    read = max(published.first[i] for i in expected) - registered if done and expected else None
    failed_first = sum(
        1
        for url in urls
        if url in first and (first[url]["status"] != 200 or first[url].get("broken"))
    )
    return {
        "entries": len(expected or ()),
        "all_polled_seconds": max(polled) if len(polled) == len(urls) else None,
        "median_first_poll_seconds": statistics.median(polled) if polled else None,
        "all_entries_published_seconds": read,
        "feeds_failing_their_first_poll": failed_first,
        "articles_published": len(published.first),
        "events": published.events,
        "page_requests": pages,
        "pages_pending_after": sum(d.get("pages_pending", 0) for d in documents),
        "entries_per_second": len(expected) / read if read and expected else None,
    }


async def steady_state(
    bench: BenchStack, news: NewsWeb, database: Any, concurrency: int
) -> dict[str, Any]:
    # Every feed due now, under short intervals: more polls wanted than one instance serves.
    await database[FEED_STATUS_COLLECTION].update_many(
        {}, {"$set": {"next_fetch_at": datetime.now(UTC)}}
    )
    env = {**STEADY_ENV, "NEWSWIRE_FEED_POLL_CONCURRENCY": str(concurrency)}
    stack: Stack = service_stack(bench, env)
    await stack.up(["ingest"], echo=False)
    try:
        pid = stack.processes.running_pid("ingest", stack.marker("ingest"))
        assert pid is not None
        ports = {"ingest": stack.settings.ingest_port}
        await asyncio.sleep(WARM_UP_SECONDS)
        before_docs, pages_before = await statuses(database), news.log(since=time.time())["pages"]
        cpu, store = (process_cpu_seconds(pid), process_cpu_seconds(news.pid)), await scrape(ports)
        started = time.time()
        await asyncio.sleep(STEADY_SECONDS)
        elapsed = time.time() - started
        cpu_after = process_cpu_seconds(pid), process_cpu_seconds(news.pid)
        store_after = await scrape(ports)
        after_docs, after_log = await statuses(database), news.log(since=started)
    finally:
        stack.down(["ingest"], echo=False)
    window = [r for r in after_log["feeds"] if r["at"] <= started + elapsed]
    answers = Counter(r.get("status") for r in window)

    def total(documents: list[dict[str, Any]], field: str) -> int:
        return sum(d.get(field, 0) for d in documents)

    entries = total(after_docs, "entries_seen") - total(before_docs, "entries_seen")
    articles = total(after_docs, "articles_published") - total(before_docs, "articles_published")
    pages = sum(after_log["pages"].values()) - sum(pages_before.values())
    polls = len(window)
    return {
        "seconds": elapsed,
        "polls_per_second": polls / elapsed,
        "answers": {str(k): v for k, v in answers.items()},
        "changed_feeds_per_second": answers.get(200, 0) / elapsed,
        "entries_read_per_second": entries / elapsed,
        "articles_published_per_second": articles / elapsed,
        "pages_fetched_per_second": pages / elapsed,
        "ingest_cpu_ms_per_poll": 1000 * (cpu_after[0] - cpu[0]) / max(1, polls),
        "store_commands_per_poll": (
            store_after["ingest"]["store_commands"] - store["ingest"]["store_commands"]
        )
        / max(1, polls),
        "store_ms_per_command": 1000
        * (store_after["ingest"]["store_seconds"] - store["ingest"]["store_seconds"])
        / max(1.0, store_after["ingest"]["store_commands"] - store["ingest"]["store_commands"]),
        "ingest_cpu_share": (cpu_after[0] - cpu[0]) / elapsed,
        "web_cpu_share": (cpu_after[1] - cpu[1]) / elapsed,
    }


def run(progress: tqdm[Any]) -> tuple[dict[str, Any], str]:
    figures = asyncio.run(measure(progress))
    return figures, table(figures)


def table(f: dict[str, Any]) -> str:
    cold, steady = f["cold_start"], f["steady"]
    runs = [steady[str(c)] for c in CONCURRENCY]

    def seconds(value: float | None) -> str:
        return f"{value:.0f} s" if value is not None else f"not within {COLD_TIMEOUT:.0f} s"

    def row(label: str, key: str, form: str) -> str:
        return f"| {label} | " + " | ".join(format(r[key], form) for r in runs) + " |"

    return "\n".join(
        [
            "## Feeds (one ingest instance, simulated news web)",
            "",
            f"{f['feeds']:,} feeds of {f['outlets']} outlets (RSS 0.91/2.0, Atom, RDF, JSON Feed; "
            "entries shared between an outlet's feeds; pages slow, missing, throttled, paywalled, "
            "unresolvable), store **FerretDB 1.24**.",
            "",
            "| cold start | |",
            "|---|---:|",
            f"| entries the feeds showed at their first poll | {cold['entries']:,} |",
            f"| every feed polled once (median feed) | {seconds(cold['all_polled_seconds'])} "
            f"({seconds(cold['median_first_poll_seconds'])}) |",
            f"| every entry published (fully read) | "
            f"{seconds(cold['all_entries_published_seconds'])} |",
            f"| entries published a second | {cold['entries_per_second'] or 0:.1f} |",
            f"| page requests | {cold['page_requests']:,} |",
            f"| feeds whose first poll failed (the web's failing feeds) | "
            f"{cold['feeds_failing_their_first_poll']} |",
            "",
            "| steady state, every feed due each 1-2 s | "
            + " | ".join(f"{c} polls at once" for c in CONCURRENCY)
            + " |",
            "|---|" + "---:|" * len(runs),
            row("polls a second", "polls_per_second", ".0f"),
            row("feeds changed (200) a second", "changed_feeds_per_second", ".1f"),
            row("entries read a second", "entries_read_per_second", ".0f"),
            row("articles published a second", "articles_published_per_second", ".1f"),
            row("ingest CPU per poll (ms)", "ingest_cpu_ms_per_poll", ".1f"),
            row("ingest CPU (cores)", "ingest_cpu_share", ".2f"),
            row("store commands per poll", "store_commands_per_poll", ".1f"),
            row("store ms per command (mean)", "store_ms_per_command", ".1f"),
            row("simulated web CPU (cores)", "web_cpu_share", ".2f"),
            "",
        ]
    )
