"""A simulated news web for tests and benchmarks, in a process of its own.

Many outlets, each on a loopback address of its own with several feeds (RSS 0.91/2.0, Atom,
RDF, JSON Feed) that share entries; stories syndicated across outlets, edited and retracted;
pages that are slow, 404, 410, 503, 429 with Retry-After, paywalled, on hosts that do not
resolve, in several charsets; feeds that change with (simulated, compressible) time and
honour conditional GET. See model.py for the knobs.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from .model import Feed, Outlet, Story, Web, WebSettings

__all__ = ["Feed", "NewsWeb", "Outlet", "Story", "Web", "WebSettings"]

ROOT = Path(__file__).parents[2]


class NewsWeb:
    """Starts the server (``with NewsWeb(settings) as web:``) and answers what it served."""

    def __init__(self, settings: WebSettings | None = None, *, port: int | None = None) -> None:
        """``port``: the port to serve on (to serve the same URLs again), else a free one."""
        self.settings = settings or WebSettings()
        self.port = port or 0
        self._fixed_port = port is not None
        self.model: Web | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        for _ in range(5):
            if not self._fixed_port:
                self.port = random.randint(20_000, 60_000)
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.newsweb",
                    "--port",
                    str(self.port),
                    "--outlets",
                    str(self.settings.outlets),
                    "--seed",
                    str(self.settings.seed),
                    "--time-scale",
                    str(self.settings.time_scale),
                    "--backlog-hours",
                    str(self.settings.backlog_hours),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            assert self._process.stdout is not None
            line = self._process.stdout.readline()
            if b"newsweb ready" in line:
                self.model = Web(self.settings, self.port)
                return self
            self._process.wait(timeout=10)
        assert self._process is not None
        assert self._process.stderr is not None
        raise RuntimeError(f"the news web did not start: {self._process.stderr.read()[-2000:]!r}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()

    @property
    def pid(self) -> int:
        assert self._process is not None, "start it first"
        return self._process.pid

    @property
    def web(self) -> Web:
        assert self.model is not None, "start it first"
        return self.model

    @property
    def allow_hosts(self) -> str:
        """NEWSWIRE_FETCH_ALLOW_HOSTS for ingest: every outlet's host:port."""
        return ",".join(f"{outlet.host}:{self.port}" for outlet in self.web.outlets)

    ALLOW_NETWORK = "127.1.0.0/16"
    """Every outlet's address is in it: NEWSWIRE_FETCH_ALLOW_HOSTS in one entry."""

    def feed_urls(self) -> list[str]:
        return [self.web.feed_url(feed) for feed in self.web.feeds()]

    def _control(self, path: str) -> Any:
        url = f"http://{self.web.outlets[0].host}:{self.port}/_newsweb/{path}"
        return httpx.get(url, timeout=30).json()

    def truth(self) -> dict[str, Any]:
        """What every feed has shown so far, by the server's clock."""
        return self._control("truth")

    def log(self, since: float = 0.0) -> dict[str, Any]:
        """Every feed request (when, simulated when, answer; those after the real time
        ``since``) and page requests per URL."""
        return self._control(f"log?since={since}" if since else "log")

    def wait_simulated(self, hours: float) -> None:
        """Sleep for ``hours`` of simulated time."""
        time.sleep(hours * 3600 / self.settings.time_scale)
