"""One service setting at two values, measured in alternating pairs on the pipeline.

A setting that trades CPU against something else (the commit interval, a producer linger)
moves the pipeline's cost by a tenth or less, while the machine drifts by as much between two
runs minutes apart. So the two values run in pairs whose order alternates (A B, B A, A B,
...), and the drift falls on both. Each side is the pipeline of ``bench.pipeline`` in a fresh
namespace, its services started with the setting in their environment: a warm-up, then a
steady rate for the CPU of every process per article, then a burst of submissions for the
rate at which a backlog becomes readable.

``python -m bench pairs`` (not in the default run): ``NEWSWIRE_BENCH_PAIRS_SETTING`` names
the environment variable, ``NEWSWIRE_BENCH_PAIRS_VALUES`` its two values (a JSON list).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from newswire_devstack.stack import Stack
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from tqdm import tqdm

from .pipeline import (
    Lag,
    Submissions,
    Tracker,
    cpu_seconds,
    drained,
    offer,
    process_ids,
    settled,
    started_producer,
    with_services,
)
from .stack import BenchStack


class PairsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_BENCH_PAIRS_")

    setting: str = "NEWSWIRE_KAFKA_COMMIT_INTERVAL_MS"
    values: tuple[str, str] = ("0", "1000")
    pairs: int = Field(default=3, ge=1, le=10)
    rate: float = Field(default=8.0, gt=0, description="Articles a second for the CPU figures.")
    seconds: float = Field(default=50.0, gt=0)
    burst: int = Field(default=600, ge=10, description="Articles submitted at once.")


STEPS = 2 * PairsSettings().pairs


def run(progress: tqdm[Any]) -> tuple[dict[str, Any], str]:
    settings = PairsSettings()
    first, second = settings.values
    sides = []
    for index in range(settings.pairs):
        order = (first, second) if index % 2 == 0 else (second, first)
        for value in order:
            figures = asyncio.run(one_side(settings, value))
            sides.append({"pair": index + 1, "value": value, **figures})
            progress.update(1)
    figures = {
        "setting": settings.setting,
        "values": [first, second],
        "rate_per_second": settings.rate,
        "articles_at_rate": int(settings.rate * settings.seconds),
        "burst": settings.burst,
        "sides": sides,
        "means": {
            value: means([s for s in sides if s["value"] == value]) for value in (first, second)
        },
    }
    return figures, table(figures)


async def one_side(settings: PairsSettings, value: str) -> dict[str, Any]:
    return await with_services(
        "pairs", lambda bench, stack: measure(bench, stack, settings), env={settings.setting: value}
    )


async def measure(bench: BenchStack, stack: Stack, settings: PairsSettings) -> dict[str, Any]:
    pids = process_ids(bench, stack)
    tracker = Tracker(bench)
    await tracker.start()
    producer = await started_producer(bench)
    submissions = Submissions(bench.prefix.rstrip("."))
    lag = Lag(bench)
    try:
        warm = await offer(producer, bench, submissions, tracker, 2.0, 10)
        await drained(tracker, warm, 120)
        await settled(lag, 120)
        before = cpu_seconds(pids)
        steady = await offer(producer, bench, submissions, tracker, settings.rate, settings.seconds)
        await drained(tracker, steady, 300)
        await settled(lag, 300)
        after = cpu_seconds(pids)
        started = time.time()
        burst = await offer(producer, bench, submissions, tracker, 1000.0, settings.burst / 1000)
        complete = await drained(tracker, burst, 600)
        last = max((tracker.readable[i] for i in burst if i in tracker.readable), default=started)
    finally:
        await producer.stop()
        await tracker.stop()
    cpu = {name: 1000 * (after[name] - before[name]) / len(steady) for name in pids}
    return {
        "cpu_ms_per_article": sum(cpu.values()),
        "cost": cpu,
        "burst_complete": complete,
        "burst_readable_per_second": len(burst) / max(last - started, 1e-9),
    }


def means(sides: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "cpu_ms_per_article": statistics.fmean(s["cpu_ms_per_article"] for s in sides),
        "burst_readable_per_second": statistics.fmean(
            s["burst_readable_per_second"] for s in sides
        ),
        "cost": {
            name: statistics.fmean(s["cost"][name] for s in sides) for name in sides[0]["cost"]
        },
    }


def table(f: dict[str, Any]) -> str:
    names = list(f["sides"][0]["cost"])
    rows = [
        f"| {s['pair']} | {s['value']} | {s['cpu_ms_per_article']:.1f} | "
        + " | ".join(f"{s['cost'][n]:.1f}" for n in names)
        + f" | {s['burst_readable_per_second']:.1f}{'' if s['burst_complete'] else ' (incomplete)'} |"
        for s in f["sides"]
    ]
    mean_rows = [
        f"| mean | {value} | {m['cpu_ms_per_article']:.1f} | "
        + " | ".join(f"{m['cost'][n]:.1f}" for n in names)
        + f" | {m['burst_readable_per_second']:.1f} |"
        for value, m in f["means"].items()
    ]
    return "\n".join(
        [
            f"## `{f['setting']}` in pairs: {' against '.join(f['values'])}",
            "",
            f"Each side: fresh namespace and services, {f['articles_at_rate']} articles at "
            f"{f['rate_per_second']:g} a second for the CPU per article, then {f['burst']} at once "
            "for the rate at which they became readable. Pairs alternate which value goes first.",
            "",
            "| pair | value | CPU ms per article | " + " | ".join(names) + " | burst readable/s |",
            "|---:|---|---:|" + "---:|" * len(names) + "---:|",
            *rows,
            *mean_rows,
            "",
        ]
    )
