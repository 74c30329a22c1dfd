"""A lean HTTP/1.1 load generator, run in its own process.

``python -m bench.loadgen URL [URL ...] --seconds S --warmup W --connections C`` prints one
JSON object per URL (a list), measured one URL after the other.

Closed loop: C keep-alive connections, each sends a GET, reads the whole response, then
sends the next (no pipelining), as C busy clients would. Latency is from writing a request
to having its last byte; a request counts when it was sent after the warm-up and answered
before the end. Responses are framed by ``Content-Length`` only (what a JSON API sends);
anything else is an error, as is a status other than 200.

Built on asyncio protocols over raw sockets (no HTTP client library, no per-request
objects beyond one bytearray slice), so one core drives several times what a FastAPI app
serves; ``loadgen_cpu`` in the output (CPU seconds over wall seconds of the measured
window) tells how close it came to being the bottleneck, and ``ceiling_rps`` is the rate
it would reach with its core to itself (requests / its CPU seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Target", "load"]


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    request: bytes

    @classmethod
    def parse(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http://host[:port]/path URLs: {url}")
        port = parts.port or 80
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {parts.hostname}:{port}\r\n"
            "Accept: application/json\r\nUser-Agent: newswire-bench\r\n\r\n"
        ).encode()
        return cls(parts.hostname, port, request)


@dataclass
class Window:
    """When measuring starts and ends, and what was seen in between."""

    start_ns: int
    end_ns: int
    latencies_ns: list[int] = field(default_factory=list)
    completed: int = 0
    """Responses that arrived inside the window (whenever they were sent): the rate."""
    total: int = 0
    """Responses over the whole run, warm-up included."""
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    body_bytes: int = 0


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request in flight."""

    def __init__(self, request: bytes, window: Window, closed: asyncio.Future[None]) -> None:
        self.request = request
        self.window = window
        self.closed = closed
        self.buffer = bytearray()
        self.expected = -1  # bytes of the current response (head + body), once the head is in
        self.status = 0
        self.body = 0
        self.sent_ns = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.sent_ns = time.perf_counter_ns()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if self.expected < 0:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end]).lower()
            self.status = int(head[9:12])
            at = head.find(b"\r\ncontent-length:")
            if at < 0:
                self._fail("no content-length")
                return
            stop = head.find(b"\r\n", at + 2)
            self.body = int(head[at + 17 : stop if stop >= 0 else len(head)])
            self.expected = end + 4 + self.body
        if len(buffer) < self.expected:
            return
        if len(buffer) > self.expected:
            self._fail("bytes after the response")
            return
        now = time.perf_counter_ns()
        buffer.clear()
        self.expected = -1
        window = self.window
        window.total += 1
        if window.start_ns <= now <= window.end_ns:
            window.completed += 1
            if self.sent_ns >= window.start_ns:
                window.latencies_ns.append(now - self.sent_ns)
                window.statuses[self.status] += 1
                window.body_bytes = self.body
        if now < window.end_ns:
            self._send()
        else:
            assert self.transport is not None
            self.transport.close()

    def _fail(self, reason: str) -> None:
        self.window.errors[reason] += 1
        assert self.transport is not None
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def _connection_loop(target: Target, window: Window) -> None:
    """Keep one connection busy until the window ends, reconnecting if the server closes."""
    loop = asyncio.get_running_loop()
    while time.perf_counter_ns() < window.end_ns:
        closed: asyncio.Future[None] = loop.create_future()
        try:
            await loop.create_connection(
                partial(_Connection, target.request, window, closed), target.host, target.port
            )
        except OSError as exc:
            window.errors[f"connect: {exc.strerror or exc}"] += 1
            await asyncio.sleep(0.1)
            continue
        await closed
        if time.perf_counter_ns() < window.end_ns:
            window.errors["connection closed"] += 1


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def load(url: str, *, seconds: float, warmup: float, connections: int) -> dict[str, Any]:
    """Drive ``url`` with ``connections`` connections; figures of the measured window."""
    target = Target.parse(url)
    began = time.perf_counter_ns()
    window = Window(
        start_ns=began + int(warmup * 1e9), end_ns=began + int((warmup + seconds) * 1e9)
    )
    tasks = [asyncio.create_task(_connection_loop(target, window)) for _ in range(connections)]
    await asyncio.sleep(max(0.0, (window.start_ns - time.perf_counter_ns()) / 1e9))
    cpu_start = _cpu_seconds()
    await asyncio.sleep(max(0.0, (window.end_ns - time.perf_counter_ns()) / 1e9))
    cpu = _cpu_seconds() - cpu_start
    await asyncio.gather(*tasks)
    latencies = sorted(window.latencies_ns)
    span = (window.end_ns - window.start_ns) / 1e9
    rps = window.completed / span

    def percentile(q: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1e6

    ok = window.statuses.get(200, 0)
    return {
        "url": url,
        "connections": connections,
        "seconds": span,
        "warmup_seconds": warmup,
        "requests": window.completed,
        "requests_all": window.total,
        "rps": rps,
        "mean_ms": statistics.fmean(latencies) / 1e6 if latencies else float("nan"),
        "p50_ms": percentile(0.50),
        "p90_ms": percentile(0.90),
        "p99_ms": percentile(0.99),
        "max_ms": latencies[-1] / 1e6 if latencies else float("nan"),
        "body_bytes": window.body_bytes,
        "non_200": sum(window.statuses.values()) - ok,
        "statuses": {str(k): v for k, v in sorted(window.statuses.items())},
        "errors": dict(window.errors),
        "loadgen_cpu": cpu / span,
        "ceiling_rps": window.completed / cpu if cpu > 0 else float("inf"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__)
    parser.add_argument("urls", nargs="+", metavar="URL")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="before measuring (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent (default 16)")
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    results = [
        asyncio.run(
            load(url, seconds=args.seconds, warmup=args.warmup, connections=args.connections)
        )
        for url in args.urls
    ]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
