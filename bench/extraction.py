"""Ingest's fetch-and-extract path against trafilatura alone, on the same pages.

Both sides extract the 24 fixture pages with the same trafilatura options, one page at a
time (one core). Newswire's side fetches each page, gzip-compressed, over loopback HTTP
from a server in another process (SSRF checks, size caps, decompression, charset
detection) and runs the extraction in a worker thread, as the service does. Rounds alternate between the two sides so that drift
in the machine's speed hits both; the figure per side is the median round.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from newswire_ingest.adapters.fetching import Fetcher, fetch_page
from newswire_ingest.config import IngestSettings
from newswire_ingest.domain.extract import extract_page
from newswire_ingest.main import fetch_options
from tqdm import tqdm

PAGES = Path(__file__).parents[1] / "services" / "ingest" / "tests" / "fixtures" / "pages"
ROUNDS = 7


def load_pages() -> dict[str, bytes]:
    return {
        f"/{p.parent.name}/{p.name.removesuffix('.gz')}": gzip.decompress(p.read_bytes())
        for p in sorted(PAGES.glob("*/*.html.gz"))
    }


def direct_round(pages: dict[str, bytes]) -> tuple[float, float]:
    """(wall, cpu) seconds for trafilatura alone on every page."""
    wall, cpu = time.perf_counter(), time.process_time()
    for path, html in pages.items():
        extract_page(html.decode("utf-8", errors="replace"), f"https://bench.example{path}")
    return time.perf_counter() - wall, time.process_time() - cpu


async def newswire_round(
    fetcher: Fetcher, base: str, pages: dict[str, bytes]
) -> tuple[float, float]:
    """(wall, cpu) seconds for fetch over HTTP, decode and extract, page by page."""
    wall, cpu = time.perf_counter(), time.process_time()
    for path in pages:
        await fetch_page(fetcher, base + path)
    return time.perf_counter() - wall, time.process_time() - cpu


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def measure(progress: tqdm[Any]) -> tuple[dict[str, Any], str]:
    pages = load_pages()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.pageserver", str(port)], stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "ready"
        settings = IngestSettings(
            fetch_allow_hosts=[f"127.0.0.1:{port}"], fetch_per_host_concurrency=1
        )
        base = f"http://127.0.0.1:{port}"
        async with Fetcher(fetch_options(settings)) as fetcher:
            await newswire_round(fetcher, base, pages)  # warm up both sides
            direct_round(pages)
            direct, ours = [], []
            for _ in range(ROUNDS):
                direct.append(direct_round(pages))
                ours.append(await newswire_round(fetcher, base, pages))
                progress.update(1)
    finally:
        server.terminate()
        server.wait()
    direct_wall = statistics.median(w for w, _ in direct)
    ours_wall = statistics.median(w for w, _ in ours)
    figures = {
        "pages": len(pages),
        "rounds": ROUNDS,
        "trafilatura_pages_per_second": len(pages) / direct_wall,
        "newswire_pages_per_second": len(pages) / ours_wall,
        "trafilatura_cpu_ms_per_page": 1000 * statistics.median(c for _, c in direct) / len(pages),
        "newswire_cpu_ms_per_page": 1000 * statistics.median(c for _, c in ours) / len(pages),
        "ratio": direct_wall / ours_wall,
        "goal": 0.9,
    }
    table = "\n".join(
        [
            "## Extraction (ingest)",
            "",
            f"{len(pages)} fixture pages, one at a time, median of {ROUNDS} alternating rounds.",
            "",
            "| path | pages/s (one core) | CPU ms/page |",
            "|---|---:|---:|",
            f"| trafilatura alone | {figures['trafilatura_pages_per_second']:.1f} | {figures['trafilatura_cpu_ms_per_page']:.1f} |",
            f"| Newswire fetch + extract | {figures['newswire_pages_per_second']:.1f} | {figures['newswire_cpu_ms_per_page']:.1f} |",
            "",
            f"Ratio Newswire / trafilatura: **{figures['ratio']:.3f}** (goal ≥ 0.9).",
            "",
        ]
    )
    return figures, table


def run(progress: tqdm[Any]) -> tuple[dict[str, Any], str]:
    return asyncio.run(measure(progress))


STEPS = ROUNDS
