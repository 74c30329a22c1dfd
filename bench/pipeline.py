"""End to end: the rate Newswire sustains, how long an article takes to become readable, what
each stage costs, and the plumbing limit of this machine beside them.

Ingest, enrich and relate run as processes against the local Kafka and store, in a fresh
namespace. Articles from the dev corpus are submitted as the gateway submits them (an
``IngestArticle`` command on ``ingest.requests``) at a steady offered rate; an article is
readable when relate publishes its ``articles.related``, which it does after the store
acknowledged the article with its enrichment and relations. Every copy of a corpus article
is a distinct article: its own URL, a line naming it, and, from one pass over the corpus to
the next, publication dates six years later (the corpus spans five), so passes never meet in
relate's 14-day window: each pass relates like the corpus itself.

- Ramp: offered rates rise step by step; a step is sustained when the backlog (submitted,
  not yet readable) stops growing over its second half (slope under 10 % of the rate) and
  drains within a grace period. The ramp stops at the first step that is not.
- Latency: submission to readable at 25 %, 50 % and 80 % of the highest sustained rate.
- Cost per stage: CPU per article of each process over the latency runs (from /proc) and
  handler and store time per article (from each service's /metrics). Of that CPU, the share
  the process would have spent idle over the same seconds (its CPU a second with nothing
  offered, measured after the warm-up): polls, heartbeats and timers, which a higher rate
  spreads over more articles.
- Plumbing: the same commands produced to a topic and drained by a FastStream app that
  upserts each one by key and does nothing else (``bench.plumbing``), with and without the
  store, and by a raw aiokafka consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import operator
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from newswire_contracts import IngestArticle, article_id, canonicalize_url, cloudevents, topics
from newswire_devstack.stack import Stack
from newswire_ingest.config import IngestSettings
from newswire_platform.kafka import ensure_topics
from newswire_platform.lag import LagMonitor
from prometheus_client.parser import text_string_to_metric_families
from pydantic import Field
from tqdm import tqdm

from .baseline import BaselineSettings, baseline_python
from .stack import BenchStack, infrastructure, process_cpu_seconds, service_stack

CORPUS = Path(__file__).parents[1] / "data" / "news-cluster" / "data"
RATES = (2.0, 3.0, 4.0, 5.0, 6.5, 8.0, 10.0, 13.0, 17.0, 20.0, 24.0, 28.0, 33.0, 40.0)
STEP_SECONDS = 30.0
GRACE_SECONDS = 30.0
LATENCY_SECONDS = 40.0
LATENCY_SHARES = (0.25, 0.5, 0.8)
IDLE_SECONDS = 20.0
PLUMBING_MESSAGES = 3_000
SERVICES = ("ingest", "enrich", "relate")
STAGES = (topics.ARTICLES_INGESTED, topics.ARTICLES_ENRICHED, topics.ARTICLES_RELATED)


class BenchSettings(BaselineSettings):
    rounds: int = Field(
        default=2,
        ge=1,
        le=6,
        description="Rounds of the pipeline, each measuring both sides; the order alternates "
        "(now, baseline; baseline, now; ...) so that the machine's drift falls on both.",
    )


_SIDE_STEPS = len(RATES) + len(LATENCY_SHARES) + 1
STEPS = 2 * BenchSettings().rounds * _SIDE_STEPS + 2
T = TypeVar("T")


def _raw_corpus() -> list[dict[str, Any]]:
    raws = [json.loads(p.read_text()) for p in sorted(CORPUS.glob("*.json"))]
    return [r for r in raws if len(r.get("text") or "") > 300 and r.get("date_publish")]


@dataclass
class Submissions:
    """Distinct articles made from the dev corpus, numbered from 0, as IngestArticle commands."""

    prefix: str
    raws: list[dict[str, Any]] = field(default_factory=_raw_corpus)
    issued: int = 0

    def next(self) -> tuple[str, cloudevents.EncodedEvent]:
        n = self.issued
        self.issued += 1
        raw = self.raws[n % len(self.raws)]
        generation = n // len(self.raws)
        published = datetime.fromisoformat(raw["date_publish"]).replace(tzinfo=UTC)
        url = f"https://bench.example/{self.prefix}/{n}"
        command = IngestArticle(
            url=url,
            title=raw["title"][:1000],
            text=f"{raw['text']}\n\nBench dispatch {n}.",
            source=raw.get("source_domain") or "unknown",
            published_at=published + timedelta(days=6 * 365 * generation),
            submitted_at=datetime.now(UTC),
        )
        return article_id(canonicalize_url(url)), cloudevents.encode(command, source="/bench")


class Tracker:
    """When each article reached each stage, from the broker timestamps of the stage topics."""

    def __init__(self, bench: BenchStack) -> None:
        self._bench = bench
        self.submitted: dict[str, float] = {}
        self.reached: dict[str, dict[str, float]] = {stage: {} for stage in STAGES}
        self._task: asyncio.Task[None] | None = None

    @property
    def readable(self) -> dict[str, float]:
        return self.reached[topics.ARTICLES_RELATED]

    def backlog(self) -> int:
        return len(self.submitted) - len(self.readable.keys() & self.submitted.keys())

    async def start(self) -> None:
        bootstrap = self._bench.settings.kafka_bootstrap_servers
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            described = await admin.describe_topics([self._bench.topic(s) for s in STAGES])
        finally:
            await admin.close()
        partitions = [
            TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
        ]
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        await consumer.start()
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        self._task = asyncio.create_task(self._follow(consumer))

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        stage_of = {self._bench.topic(stage): stage for stage in STAGES}
        try:
            while True:
                for tp, records in (await consumer.getmany(timeout_ms=200)).items():
                    seen = self.reached[stage_of[tp.topic]]
                    for record in records:
                        key = (record.key or b"").decode()
                        seen.setdefault(key, record.timestamp / 1000)
        finally:
            await consumer.stop()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def started_producer(bench: BenchStack) -> AIOKafkaProducer:
    """A producer configured as the gateway's: every replica acknowledges, no duplicates."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bench.settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
    )
    await producer.start()
    return producer


async def offer(
    producer: AIOKafkaProducer,
    bench: BenchStack,
    submissions: Submissions,
    tracker: Tracker,
    rate: float,
    seconds: float,
) -> list[str]:
    """Submit at ``rate`` for ``seconds``; the ids submitted."""
    ids = []
    started = time.monotonic()
    total = int(rate * seconds)
    for n in range(total):
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        identifier, encoded = submissions.next()
        tracker.submitted[identifier] = time.time()
        await producer.send(
            bench.topic(encoded.topic), encoded.value, key=encoded.key, headers=encoded.headers
        )
        ids.append(identifier)
    await producer.flush()
    return ids


async def sample_backlog(tracker: Tracker, seconds: float) -> list[tuple[float, int]]:
    samples = []
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        samples.append((elapsed, tracker.backlog()))
        await asyncio.sleep(1.0)
    return samples


async def drained(tracker: Tracker, ids: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(i in tracker.readable for i in ids):
            return True
        await asyncio.sleep(0.5)
    return False


class Lag:
    """Messages not yet consumed by the services' consumer groups, every topic they read
    (relate's refresh requests included): the lag that must not grow without bound."""

    def __init__(self, bench: BenchStack) -> None:
        self._monitors = [
            LagMonitor(
                IngestSettings(kafka_bootstrap_servers=bench.settings.kafka_bootstrap_servers),
                group=f"{bench.prefix}newswire-{name}",
                service=name,
            )
            for name in SERVICES
        ]

    async def total(self) -> int:
        total = 0
        for monitor in self._monitors:
            total += sum((await monitor.measure()).values())
        return total


async def ramp_step(
    producer: AIOKafkaProducer,
    bench: BenchStack,
    submissions: Submissions,
    tracker: Tracker,
    lag: Lag,
    rate: float,
) -> dict[str, Any]:
    lag_before = await lag.total()
    started = time.time()
    before = {stage: len(tracker.reached[stage]) for stage in STAGES}
    ids, samples = await asyncio.gather(
        offer(producer, bench, submissions, tracker, rate, STEP_SECONDS),
        sample_backlog(tracker, STEP_SECONDS),
    )
    elapsed = time.time() - started
    outputs = {stage: (len(tracker.reached[stage]) - before[stage]) / elapsed for stage in STAGES}
    half = [(t, b) for t, b in samples if t >= STEP_SECONDS / 2]
    slope = statistics.linear_regression([t for t, _ in half], [b for _, b in half]).slope
    caught_up = await drained(tracker, ids, GRACE_SECONDS)
    lag_after = await lag.total()
    return {
        "offered_per_second": rate,
        "backlog_slope_per_second": slope,
        "backlog_at_end": samples[-1][1],
        "drained_within_grace": caught_up,
        "consumer_lag_before": lag_before,
        "consumer_lag_after_grace": lag_after,
        "sustained": caught_up and slope < 0.1 * rate and lag_after <= lag_before + 10 * rate,
        "output_per_second": {stage: outputs[stage] for stage in STAGES},
    }


async def settled(lag: Lag, timeout: float) -> None:
    """Until the services have consumed everything (refresh requests included)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await lag.total() == 0:
            return
        await asyncio.sleep(2)


async def idle_cpu(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds a second each process spends with nothing offered."""
    before, started = cpu_seconds(pids), time.monotonic()
    await asyncio.sleep(IDLE_SECONDS)
    after, elapsed = cpu_seconds(pids), time.monotonic() - started
    return {name: (after[name] - before[name]) / elapsed for name in pids}


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cut[49], "p90": cut[89], "p99": cut[98], "max": ordered[-1]}


def latencies(tracker: Tracker, ids: list[str]) -> dict[str, Any]:
    """Seconds from submission to readable, and to each stage, for these articles."""
    ingested, enriched, related = (tracker.reached[stage] for stage in STAGES)
    end_to_end = [related[i] - tracker.submitted[i] for i in ids]
    stages = {
        "submitted_to_ingested": [ingested[i] - tracker.submitted[i] for i in ids],
        "ingested_to_enriched": [enriched[i] - ingested[i] for i in ids],
        "enriched_to_related": [related[i] - enriched[i] for i in ids],
    }
    return {
        "articles": len(ids),
        "end_to_end_seconds": percentiles(end_to_end),
        "median_stage_seconds": {k: statistics.median(v) for k, v in stages.items()},
        # Which hop the tail comes from (the tails of the hops need not add up).
        "p99_stage_seconds": {k: percentiles(v)["p99"] for k, v in stages.items()},
    }


async def scrape(ports: dict[str, int]) -> dict[str, dict[str, float]]:
    """Seconds spent so far in message handlers and in store commands, per service."""
    out: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for service, port in ports.items():
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
            figures = {
                "handler_seconds": 0.0,
                "messages": 0.0,
                "store_seconds": 0.0,
                "store_commands": 0.0,
            }
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name == "newswire_received_processed_messages_duration_seconds_sum":
                        figures["handler_seconds"] += sample.value
                    elif sample.name == "newswire_received_messages_total":
                        figures["messages"] += sample.value
                    elif sample.name == "newswire_store_command_seconds_sum":
                        figures["store_seconds"] += sample.value
                    elif sample.name == "newswire_store_command_seconds_count":
                        figures["store_commands"] += sample.value
            out[service] = figures
    return out


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    return {name: process_cpu_seconds(pid) for name, pid in pids.items()}


async def newswire(progress: tqdm[Any], python: Path | None = None) -> dict[str, Any]:
    """The figures of the services of this checkout, or of another's (``python``)."""
    return await with_services(
        "pipeline", lambda bench, stack: drive(bench, stack, progress), python
    )


async def with_services(
    name: str,
    measure: Callable[[BenchStack, Stack], Awaitable[T]],
    python: Path | None = None,
    env: dict[str, str] | None = None,
) -> T:
    """``measure`` against ingest, enrich and relate running in a fresh namespace ``name``."""
    async with infrastructure(name) as bench:
        settings = IngestSettings(
            kafka_bootstrap_servers=bench.settings.kafka_bootstrap_servers,
            topic_prefix=bench.prefix,
        )
        await ensure_topics(settings, topics.ALL_TOPICS)
        stack = service_stack(bench, env=env, python=python)
        try:
            await stack.up(list(SERVICES), echo=False)
            return await measure(bench, stack)
        finally:
            stack.down(list(SERVICES), echo=False)


def process_ids(bench: BenchStack, stack: Stack) -> dict[str, int]:
    """The services' processes and the servers', by name."""
    pids = {name: stack.processes.running_pid(name, stack.marker(name)) for name in SERVICES}
    for name in ("kafka", "store"):
        pids[name] = bench.stack.processes.running_pid(name, bench.stack.marker(name))
    return pids


async def drive(bench: BenchStack, stack: Stack, progress: tqdm[Any]) -> dict[str, Any]:
    """The ramp, the latency runs and the costs, against services that are running."""
    pids = process_ids(bench, stack)
    ports = {name: getattr(stack.settings, f"{name}_port") for name in SERVICES}
    tracker = Tracker(bench)
    await tracker.start()
    producer = await started_producer(bench)
    submissions = Submissions(bench.prefix.rstrip("."))
    try:
        # Warm-up: models loaded, groups joined, first batches through.
        warm = await offer(producer, bench, submissions, tracker, 2.0, 10)
        await drained(tracker, warm, 120)
        lag = Lag(bench)
        await settled(lag, 120)
        idle = await idle_cpu(pids)
        progress.update(1)
        ramp = []
        for rate in RATES:
            step = await ramp_step(producer, bench, submissions, tracker, lag, rate)
            ramp.append(step)
            progress.update(1)
            if not step["sustained"]:
                await drained(tracker, list(tracker.submitted), 300)
                await settled(lag, 300)
                break
        progress.update(len(RATES) - len(ramp))
        sustained = max((s["offered_per_second"] for s in ramp if s["sustained"]), default=0.0)
        saturated = max(s["output_per_second"][topics.ARTICLES_RELATED] for s in ramp)

        runs = []
        cpu_before, metrics_before = cpu_seconds(pids), await scrape(ports)
        window_started = time.monotonic()
        for share in LATENCY_SHARES:
            rate = max(0.5, share * sustained)
            ids = await offer(producer, bench, submissions, tracker, rate, LATENCY_SECONDS)
            await drained(tracker, ids, 300)
            await settled(lag, 300)
            done = [i for i in ids if i in tracker.readable]
            runs.append({"share": share, "offered_per_second": rate, **latencies(tracker, done)})
            progress.update(1)
        cpu_after, metrics_after = cpu_seconds(pids), await scrape(ports)
        window = time.monotonic() - window_started
        articles = sum(r["articles"] for r in runs)
        cost = {
            name: {
                "cpu_ms_per_article": 1000 * (cpu_after[name] - cpu_before[name]) / articles,
                "idle_cpu_ms_per_second": 1000 * idle[name],
                "idle_cpu_ms_per_article": 1000 * idle[name] * window / articles,
            }
            for name in pids
        }
        for name in SERVICES:
            delta = {
                k: metrics_after[name][k] - metrics_before[name][k] for k in metrics_after[name]
            }
            cost[name]["handler_ms_per_article"] = 1000 * delta["handler_seconds"] / articles
            cost[name]["store_ms_per_article"] = 1000 * delta["store_seconds"] / articles
            cost[name]["store_commands_per_article"] = delta["store_commands"] / articles
            cost[name]["messages_per_article"] = delta["messages"] / articles
    finally:
        await producer.stop()
        await tracker.stop()
    return {
        "cpu_ms_per_article": sum(c["cpu_ms_per_article"] for c in cost.values()),
        "idle_cpu_ms_per_article": sum(c["idle_cpu_ms_per_article"] for c in cost.values()),
        "ramp": ramp,
        "sustained_per_second": sustained,
        "saturated_output_per_second": saturated,
        "latency": runs,
        "cost": cost,
    }


async def plumbing(progress: tqdm[Any]) -> dict[str, Any]:
    async with infrastructure("plumbing") as bench:
        settings = IngestSettings(
            kafka_bootstrap_servers=bench.settings.kafka_bootstrap_servers,
            topic_prefix=bench.prefix,
        )
        await ensure_topics(settings, [topics.INGEST_REQUESTS])
        topic = bench.topic(topics.INGEST_REQUESTS)
        submissions = Submissions(bench.prefix.rstrip("."))
        messages = [submissions.next()[1] for _ in range(PLUMBING_MESSAGES)]
        producer = await started_producer(bench)
        try:
            started = time.perf_counter()
            sends = [
                await producer.send(topic, m.value, key=m.key, headers=m.headers) for m in messages
            ]
            await asyncio.gather(*sends)
            produced = len(messages) / (time.perf_counter() - started)
        finally:
            await producer.stop()
        progress.update(1)
        raw = await raw_drain(bench, topic, len(messages))
        bootstrap = bench.settings.kafka_bootstrap_servers
        store = [bench.settings.mongodb_url, bench.database]
        drains = {}
        for name, mode, with_store in (
            ("faststream_per_second", "message", False),
            ("faststream_and_store_per_second", "message", True),
            ("faststream_batch_and_bulk_store_per_second", "batch", True),
        ):
            group = f"{bench.prefix}{name}"
            drains[name] = await app_drain(
                [mode, bootstrap, topic, group, str(len(messages)), *(store if with_store else [])]
            )
        progress.update(1)
    return {
        "messages": len(messages),
        "mean_message_bytes": statistics.mean(len(m.value) for m in messages),
        "raw_producer_per_second": produced,
        "raw_consumer_per_second": raw,
        **drains,
    }


async def raw_drain(bench: BenchStack, topic: str, count: int) -> float:
    """Messages a second a plain aiokafka consumer group reads, committing as it goes."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bench.settings.kafka_bootstrap_servers,
        group_id=f"{bench.prefix}raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        seen, first = 0, None
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000)
            if batches and first is None:
                first = time.perf_counter()
            seen += sum(len(records) for records in batches.values())
            if batches:
                await consumer.commit()
        return count / (time.perf_counter() - (first or time.perf_counter()))
    finally:
        await consumer.stop()


async def app_drain(args: list[str]) -> float:
    """Messages a second ``bench.plumbing`` handles, from its first message to its last."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.plumbing",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=Path(__file__).parents[1],
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    except TimeoutError:
        process.kill()
        raise
    seen = json.loads(out.decode().strip().splitlines()[-1])
    return (seen["count"] - 1) / ((seen["last"] - seen["first"]) / 1e9)


def run(progress: tqdm[Any]) -> tuple[dict[str, Any], str]:
    settings = BenchSettings()
    if settings.baseline == "none":
        figures = asyncio.run(newswire(progress))
        progress.update(STEPS - 2 - _SIDE_STEPS)
    else:
        figures = interleaved(progress, settings.baseline, settings.rounds)
    try:
        figures["plumbing"] = asyncio.run(plumbing(progress))
    except Exception as exc:
        # Twenty minutes of pipeline figures are not thrown away for a failed side measure.
        figures["plumbing"] = {"error": repr(exc)}
    return figures, table(figures)


def interleaved(progress: tqdm[Any], revision: str, rounds: int) -> dict[str, Any]:
    """Now and ``revision``'s services, ``rounds`` times in alternating order (now first, then
    the baseline first, ...). One pass of each, one after the other, let the machine's drift fall
    on one side: four baselines measured on one day cost 165 to 254 ms of CPU an article. The
    detailed figures are round 1's; every round's are kept, and pooled per side."""
    python = baseline_python(revision)
    measured: list[dict[str, Any]] = []
    for index in range(rounds):
        order = ("now", "baseline") if index % 2 == 0 else ("baseline", "now")
        one: dict[str, Any] = {"order": list(order)}
        for side in order:
            one[side] = asyncio.run(newswire(progress, python if side == "baseline" else None))
        measured.append(one)
    first = measured[0]
    return {
        **first["now"],
        "baseline": {"commit": revision, **first["baseline"]},
        "rounds": measured,
        "interleaved": {side: pooled([m[side] for m in measured]) for side in ("now", "baseline")},
    }


def pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One side over several rounds: rates and p99 averaged, CPU per article over all the
    rounds' articles together (a round with more articles weighs more)."""
    articles = [sum(r["articles"] for r in f["latency"]) for f in runs]

    def per_article(*path: str) -> float:
        values = [functools.reduce(operator.getitem, path, f) for f in runs]
        return sum(v * n for v, n in zip(values, articles, strict=True)) / sum(articles)

    return {
        "rounds": len(runs),
        "articles": sum(articles),
        "sustained_per_second": statistics.fmean(f["sustained_per_second"] for f in runs),
        "saturated_output_per_second": statistics.fmean(
            f["saturated_output_per_second"] for f in runs
        ),
        "p99_at_half_seconds": statistics.fmean(p99_at_half(f) for f in runs),
        "cpu_ms_per_article": per_article("cpu_ms_per_article"),
        "idle_cpu_ms_per_article": per_article("idle_cpu_ms_per_article"),
        "cost": {
            name: {"cpu_ms_per_article": per_article("cost", name, "cpu_ms_per_article")}
            for name in runs[0]["cost"]
        },
    }


def p99_at_half(f: dict[str, Any]) -> float:
    half = min(f["latency"], key=lambda r: abs(r["share"] - 0.5))
    return half["end_to_end_seconds"]["p99"]


def headline(f: dict[str, Any]) -> dict[str, float]:
    """The measures set beside the baseline's, of one side's figures or of its pooled rounds."""
    measures = {
        "sustained articles/s": f["sustained_per_second"],
        "CPU ms per article, all processes": f["cpu_ms_per_article"],
        "of which idle, all processes": f.get("idle_cpu_ms_per_article"),  # older results lack it
        "p99 submission→readable at ~50 % of sustained, s": (
            f["p99_at_half_seconds"] if "p99_at_half_seconds" in f else p99_at_half(f)
        ),
        **{f"CPU ms per article, {name}": c["cpu_ms_per_article"] for name, c in f["cost"].items()},
    }
    return {what: value for what, value in measures.items() if value is not None}


def _ratio(now: float, then: float) -> str:
    return f"{now / then:.2f}" if then else "–"


def baseline_table(f: dict[str, Any]) -> list[str]:
    """Now beside the commit before the throughput work, both measured in this run."""
    if "baseline" not in f:
        return []
    commit = f["baseline"]["commit"]
    if "interleaved" in f:
        now, then = headline(f["interleaved"]["now"]), headline(f["interleaved"]["baseline"])
        rounds = [(headline(r["now"]), headline(r["baseline"])) for r in f["rounds"]]
        orders = "; ".join(" then ".join(r["order"]) for r in f["rounds"])
        intro = [
            f"Both sides ran {len(rounds)} times in this run, in alternating order ({orders}), "
            "so that the machine's drift weighs on both. Now and baseline are over all rounds: "
            "rates and p99 are the rounds' means, CPU is over all the rounds' articles. Each "
            "round's own ratio follows; the detailed tables further down are round 1's.",
            "",
        ]
    else:
        now, then, rounds, intro = headline(f), headline(f["baseline"]), [], []
    numbers = range(1, len(rounds) + 1)
    return [
        f"## Now against the baseline (commit `{commit}`, same run)",
        "",
        *intro,
        "| measure | now | baseline | now / baseline |" + "".join(f" round {i} |" for i in numbers),
        "|---|---:|---:|---:|" + "---:|" * len(rounds),
        *(
            f"| {what} | {now[what]:.2f} | {then[what]:.2f} | {_ratio(now[what], then[what])} |"
            + "".join(f" {_ratio(n.get(what, 0.0), b.get(what, 0.0))} |" for n, b in rounds)
            for what in now
            if what in then
        ),
        "",
    ]


def table(f: dict[str, Any]) -> str:
    p = f["plumbing"]
    sustained = f["sustained_per_second"]
    ramp_rows = [
        f"| {s['offered_per_second']:.1f} | "
        + " | ".join(f"{s['output_per_second'][stage]:.1f}" for stage in STAGES)
        + f" | {s['backlog_slope_per_second']:+.2f} | {s['consumer_lag_before']:,} → {s['consumer_lag_after_grace']:,}"
        + f" | {'yes' if s['sustained'] else 'no'} |"
        for s in f["ramp"]
    ]
    latency_rows = [
        f"| {int(r['share'] * 100)} % ({r['offered_per_second']:.1f}/s) | {r['articles']} | "
        + " | ".join(f"{r['end_to_end_seconds'][k]:.2f}" for k in ("p50", "p90", "p99", "max"))
        + " | "
        + " / ".join(f"{v:.2f}" for v in r["median_stage_seconds"].values())
        + " | "
        + " / ".join(f"{v:.2f}" for v in r.get("p99_stage_seconds", {}).values())
        + " |"
        for r in f["latency"]
    ]
    cost_rows = [
        f"| {name} | {c['cpu_ms_per_article']:.1f} | "
        + (
            f"{c['idle_cpu_ms_per_article']:.1f} ({c['idle_cpu_ms_per_second']:.0f}/s) | "
            if "idle_cpu_ms_per_article" in c
            else "– | "
        )
        + (
            f"{c['handler_ms_per_article']:.1f} | {c['store_ms_per_article']:.1f} | "
            f"{c['store_commands_per_article']:.1f} | {c['messages_per_article']:.2f} |"
            if "handler_ms_per_article" in c
            else "– | – | – | – |"
        )
        for name, c in f["cost"].items()
    ]
    return "\n".join(
        [
            *baseline_table(f),
            "## End to end",
            "",
            "Ingest, enrich and relate as processes (one instance each), Kafka (one KRaft node) and "
            "FerretDB 1.24 (SQLite), all on the same cores as the load. Submissions are IngestArticle "
            "commands on `ingest.requests`, as the gateway publishes them; readable = relate's "
            "`articles.related` for the article, published after the store acknowledged it.",
            "",
            f"**Sustained: {sustained:.1f} articles/s**: the highest offered rate (steps of "
            f"{STEP_SECONDS:.0f} s) whose backlog of unreadable articles stopped growing (slope over the "
            f"second half under 10 % of the rate), whose articles were all readable within "
            f"{GRACE_SECONDS:.0f} s of the step's end, and after which the services' consumer lag "
            "(every topic, relate's refresh requests included) was back within 10 s of input. "
            f"Saturated output: {f['saturated_output_per_second']:.1f} articles/s.",
            "",
            "| offered/s | ingested/s | enriched/s | readable/s | backlog slope/s | consumer lag before → after | sustained |",
            "|---:|---:|---:|---:|---:|---:|---|",
            *ramp_rows,
            "",
            "Submission to readable, seconds (stages: submitted→ingested / ingested→enriched / enriched→readable):",
            "",
            "| load | articles | p50 | p90 | p99 | max | stages, median | stages, p99 |",
            "|---|---:|---:|---:|---:|---:|---|---|",
            *latency_rows,
            "",
            "Cost per article over the latency runs (CPU from /proc; of which idle: the CPU a "
            "second the process spent with nothing offered, measured after the warm-up, times "
            "the runs' seconds; handler and store time from each service's /metrics; store time "
            "is the driver's round trips, on FerretDB):",
            "",
            "| process | CPU ms | of which idle (idle ms/s) | handler ms | store ms | store commands | messages in |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *cost_rows,
            "",
            *plumbing_table(p, sustained),
        ]
    )


def plumbing_table(p: dict[str, Any], sustained: float) -> list[str]:
    if "error" in p:
        return [f"Plumbing limit not measured in this run: {p['error']}", ""]
    stored = p["faststream_and_store_per_second"]
    bulk = p["faststream_batch_and_bulk_store_per_second"]
    return [
        f"Plumbing limit, {p['messages']:,} of the same commands (mean {p['mean_message_bytes']:,.0f} bytes):",
        "",
        "| what | messages/s |",
        "|---|---:|",
        f"| raw aiokafka producer (acks=all, idempotent) | {p['raw_producer_per_second']:,.0f} |",
        f"| raw aiokafka consumer (commit per batch) | {p['raw_consumer_per_second']:,.0f} |",
        f"| FastStream app, commit per message, no store | {p['faststream_per_second']:,.0f} |",
        f"| FastStream app, commit per message, upsert by key into FerretDB | {stored:,.0f} |",
        f"| FastStream app, batches of up to 500, one unordered bulk write and one commit per batch | {bulk:,.0f} |",
        "",
        f"Newswire sustained / batch plumbing with bulk store writes: **{sustained / bulk:.3f}**. "
        f"Newswire sustained / plumbing with store: **{sustained / stored:.3f}**. "
        f"Plumbing with store / without: **{stored / p['faststream_per_second']:.2f}**; "
        f"plumbing with store / raw consumer: **{stored / p['raw_consumer_per_second']:.3f}**.",
        "",
    ]
