"""The read API under load: requests per second and latency, against a bare FastAPI route.

The four services run in a fresh namespace and the sample corpus (``data/sample``) goes
through them; once the seed article and its related list are served, its exact response
bytes are captured. A bare FastAPI app (``bench.bareapp``) then serves those same bytes as
constant documents, under the same server configuration as the gateway, in its own process.
Each target is driven from a second process on loopback by ``bench.loadgen`` (closed loop,
HTTP/1.1 keep-alive, the same number of connections for every target; warm-up, then a
measured window), one target at a time:

- ``GET /v1/articles/{id}`` and ``GET /v1/articles/{id}/related`` of the gateway as deployed:
  the article comes from the gateway's article cache (kept until relate announces a change),
  each response body (the article's JSON, the related list) is rendered once per cached copy,
  the article's ETag hashed from it on each request;
- ``GET /v1/articles/{id}`` of a second gateway with the cache off
  (``NEWSWIRE_ARTICLE_CACHE_SIZE=0``): a read from FerretDB, the MongoDB-wire store on SQLite,
  by ``_id``, validation and serialisation on every request;
- ``GET /bare/article`` and ``GET /bare/related``: the same bodies, encoded once.

The ratio of the two rates is the share of the server's capacity the gateway keeps while
doing its work (goal ≥ 0.5). CPU seconds of the server, the store, the load generator and
the rest of the machine over each run (warm-up included) show what was busy.

Server configuration: the gateway as deployed, ``newswire_platform.service.run`` (uvicorn,
one worker, access log off, httptools' HTTP parser, the uvloop event loop: what
``uvicorn[standard]`` runs with), and the bare app through the same function. The table says
which loop and parser were used.

The load generator is Python, in its own process, so the benchmark needs nothing installed;
it reports its own CPU use, from which the table gives its ceiling (requests per second of
its own CPU), about three times what the bare app serves. In a check on the development
machine, ``wrk`` (one thread, 16 connections) measured 5-13 % more on the bare app than it
does: a C client leaves the server a little more of the two cores.

Gateway and bare documents differ by headers only: the gateway's article response also
carries ``ETag`` and ``Cache-Control``.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from newswire_cli.submit import submit_paths, wait_for_article
from newswire_devstack.stack import Stack
from newswire_platform import ServiceSettings
from tqdm import tqdm

from .stack import BenchStack, free_port, infrastructure, process_cpu_seconds, service_stack

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "data" / "sample"
SEED_URL = "https://news.example/seed/lavrov-north-korea-visit"
SERVICES = ["ingest", "enrich", "relate", "gateway"]
SECONDS = 10.0
WARMUP = 2.0
CONNECTIONS = 16
STEPS = 8


def server_configuration() -> str:
    """What uvicorn runs with under ``newswire_platform.service.run``."""
    loop = ServiceSettings.model_fields["event_loop"].default
    return f"uvicorn, 1 worker, access log off, HTTP httptools, loop {loop}"


async def related_settled(gateway: str, article: str, timeout: float = 30.0) -> int:
    """Wait until the article's related list has not changed for 3 s; its length."""
    deadline = time.monotonic() + timeout
    last: list[str] | None = None
    since = time.monotonic()
    async with httpx.AsyncClient(base_url=gateway, timeout=10.0) as client:
        while time.monotonic() < deadline:
            response = await client.get(f"/v1/articles/{article}/related")
            ids = [item["id"] for item in response.json()["items"]]
            if ids != last:
                last, since = ids, time.monotonic()
            elif ids and time.monotonic() - since >= 3.0:
                break
            await asyncio.sleep(0.5)
    return len(last or [])


async def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not answering after {timeout:.0f}s")
            await asyncio.sleep(0.2)


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot, from /proc/stat."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def drive(url: str, pids: dict[str, int | None]) -> dict[str, Any]:
    """One load-generator run against ``url``, with the CPU the processes in ``pids``, the
    load generator and everything else on the machine used over it (warm-up included)."""
    running = {name: pid for name, pid in pids.items() if pid is not None}
    before = {name: process_cpu_seconds(pid) for name, pid in running.items()}
    loadgen_before, busy_before = children_cpu_seconds(), machine_busy_seconds()
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            url,
            f"--seconds={SECONDS}",
            f"--warmup={WARMUP}",
            f"--connections={CONNECTIONS}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    figures: dict[str, Any] = json.loads(result.stdout)[0]
    if figures["non_200"] or figures["errors"]:
        raise RuntimeError(f"{url}: {figures['statuses']} {figures['errors']}")
    used = {name: process_cpu_seconds(pid) - before[name] for name, pid in running.items()}
    used["loadgen"] = children_cpu_seconds() - loadgen_before
    used["other"] = max(0.0, machine_busy_seconds() - busy_before - sum(used.values()))
    for name, seconds in used.items():
        figures[f"{name}_cores"] = seconds / wall
        figures[f"{name}_cpu_us_per_request"] = seconds / figures["requests_all"] * 1e6
    return figures


async def measure(progress: tqdm[Any]) -> dict[str, Any]:
    async with infrastructure("api") as bench:
        stack = service_stack(bench)
        await stack.up(SERVICES, echo=False)
        try:
            progress.update(1)
            return await measure_stack(bench, stack, progress)
        finally:
            stack.down(SERVICES, echo=False)


async def measure_stack(bench: BenchStack, stack: Stack, progress: tqdm[Any]) -> dict[str, Any]:
    gateway = f"http://127.0.0.1:{stack.settings.gateway_port}"
    summary = await submit_paths(
        [SAMPLE], gateway_url=gateway, api_key=stack.settings.api_keys[0], progress=False
    )
    article = await wait_for_article(gateway, SEED_URL, timeout=180.0)
    related = await related_settled(gateway, article)
    progress.update(1)
    paths = {"article": f"/v1/articles/{article}", "related": f"/v1/articles/{article}/related"}
    async with httpx.AsyncClient(base_url=gateway, timeout=10.0) as client:
        bodies = {name: (await client.get(path)).content for name, path in paths.items()}
    gateway_pid = stack.processes.running_pid("gateway", "newswire_gateway")
    store_pid = bench.stack.processes.running_pid("store", "ferretdb")
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for name, body in bodies.items():
            (Path(folder) / f"{name}.json").write_bytes(body)
            files.append(f"{name}={folder}/{name}.json")
        port = free_port()
        log = Path(folder) / "bareapp.log"
        with log.open("wb") as output:
            bare = subprocess.Popen(
                [sys.executable, "-m", "bench.bareapp", str(port), *files],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            try:
                await wait_http(f"{base}/bare/article")
            except TimeoutError as exc:
                raise RuntimeError(f"the bare app did not start:\n{log.read_text()}") from exc
            async with httpx.AsyncClient(base_url=base) as client:
                for name, body in bodies.items():
                    if (await client.get(f"/bare/{name}")).content != body:
                        raise RuntimeError(f"the bare app does not serve the {name} bytes")
            results = {}
            # The bare runs bracket the gateway's, so neither side gets the quieter machine.
            results["bare_article"] = drive(f"{base}/bare/article", {"server": bare.pid})
            progress.update(1)
            for name, path in paths.items():
                results[name] = drive(
                    f"{gateway}{path}", {"server": gateway_pid, "store": store_pid}
                )
                progress.update(1)
            uncached_port = free_port()
            uncached_pid = await stack.start_instance(
                "gateway",
                "gateway-uncached",
                port=uncached_port,
                env={"NEWSWIRE_ARTICLE_CACHE_SIZE": "0"},
            )
            try:
                results["article_uncached"] = drive(
                    f"http://127.0.0.1:{uncached_port}{paths['article']}",
                    {"server": uncached_pid, "store": store_pid},
                )
            finally:
                stack.stop_instance("gateway", "gateway-uncached")
            progress.update(1)
            results["bare_related"] = drive(f"{base}/bare/related", {"server": bare.pid})
            progress.update(1)
        finally:
            bare.terminate()
            try:
                bare.wait(timeout=30)
            except subprocess.TimeoutExpired:
                bare.kill()
                bare.wait()
    return {
        "submitted": len(summary.accepted),
        "rejected": len(summary.rejected),
        "article_id": article,
        "related_items": related,
        "body_bytes": {name: len(body) for name, body in bodies.items()},
        "targets": results,
    }


def run(progress: tqdm[Any]) -> tuple[dict[str, Any], str]:
    measured = asyncio.run(measure(progress))
    targets = measured["targets"]
    article_ratio = targets["article"]["rps"] / targets["bare_article"]["rps"]
    related_ratio = targets["related"]["rps"] / targets["bare_related"]["rps"]
    uncached_ratio = targets["article_uncached"]["rps"] / targets["bare_article"]["rps"]
    ceiling = targets["bare_article"]["ceiling_rps"]
    figures = {
        "server": server_configuration(),
        "connections": CONNECTIONS,
        "seconds": SECONDS,
        "warmup_seconds": WARMUP,
        "store": "FerretDB (MongoDB wire, SQLite back end), the article and its relations by _id (cache off)",
        **{k: v for k, v in measured.items() if k != "targets"},
        "targets": targets,
        "ratio_article_to_bare": article_ratio,
        "ratio_related_to_bare": related_ratio,
        "ratio_article_uncached_to_bare": uncached_ratio,
        "loadgen_ceiling_rps": ceiling,
        "goal_ratio": 0.5,
    }
    progress.update(1)
    rows = [
        ("`GET /v1/articles/{id}` (gateway)", "article"),
        ("`GET /v1/articles/{id}/related` (gateway)", "related"),
        ("`GET /v1/articles/{id}` (gateway, cache off: a store read each)", "article_uncached"),
        ("`GET /bare/article` (bare FastAPI, same body)", "bare_article"),
        ("`GET /bare/related` (bare FastAPI, same body)", "bare_related"),
    ]
    lines = [
        "## Read API under load",
        "",
        f"{server_configuration()}. Load from `bench.loadgen` (asyncio over raw sockets, "
        f"HTTP/1.1 keep-alive, closed loop) in a second process on loopback: {CONNECTIONS} "
        f"connections, {WARMUP:.0f} s warm-up, then {SECONDS:.0f} s measured, per target. The "
        "gateway serves the article from its cache (dropped when relate announces a change); "
        "with the cache off it reads the store, FerretDB (MongoDB wire on SQLite), by `_id` on "
        "every request. Everything shares the same two cores. Seed article of the sample "
        f"corpus ({measured['submitted']} articles submitted), {measured['related_items']} related.",
        "",
        "| target | body bytes | requests/s | p50 ms | p99 ms | server CPU µs/request "
        "| store CPU µs/request | cores busy: server / store / load generator / other |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, key in rows:
        t = targets[key]
        store = f"{t['store_cpu_us_per_request']:,.0f}" if "store_cores" in t else "–"
        cores = " / ".join(
            f"{t[f'{name}_cores']:.2f}" if f"{name}_cores" in t else "–"
            for name in ("server", "store", "loadgen", "other")
        )
        lines.append(
            f"| {label} | {t['body_bytes']:,} | {t['rps']:,.0f} | {t['p50_ms']:.2f} | "
            f"{t['p99_ms']:.2f} | {t['server_cpu_us_per_request']:,.0f} | {store} | {cores} |"
        )
    lines += [
        "",
        f"Ratio article / bare: **{article_ratio:.2f}**, related / bare: **{related_ratio:.2f}** "
        f"(goal ≥ 0.5); with the cache off, article / bare: {uncached_ratio:.2f}. CPU per request and cores busy are over each whole run, warm-up included; "
        "other: the rest of the machine (Kafka, the idle services, anything else running). "
        "The load generator's own ceiling (requests per second of its own CPU, bare article "
        f"run): {ceiling:,.0f} requests/s.",
        "",
    ]
    return figures, "\n".join(lines)
