"""Request counts and latency histograms by route, for /metrics (Prometheus)."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestMetrics"]

REQUESTS = Counter(
    "newswire_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "newswire_http_request_duration_seconds",
    "Time to answer an HTTP request (streams: to the first byte).",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


class RequestMetrics:
    """ASGI middleware. Routes are labelled by their template (``/v1/articles/{article_id}``),
    never by the raw path, so the number of series stays bounded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Each labelled series looked up once (labels() takes a lock and builds a key); as
        # bounded as the series themselves.
        self._series: dict[tuple[str, str, int], tuple[Histogram, Counter]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                route = getattr(scope.get("route"), "path", "unmatched")
                latency, requests = self._labelled(scope["method"], route, status)
                latency.observe(time.perf_counter() - started)
                requests.inc()
            await send(message)

        await self.app(scope, receive, observed)

    def _labelled(self, method: str, route: str, status: int) -> tuple[Histogram, Counter]:
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                LATENCY.labels(method, route),
                REQUESTS.labels(method, route, str(status)),
            )
        return series
