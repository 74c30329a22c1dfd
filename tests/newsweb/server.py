"""The simulated web's server: every outlet on a loopback address of its own, one port.

Feeds answer conditional GETs (ETag, Last-Modified), with a Cache-Control max-age in real
seconds (the simulated age divided by the time scale); pages answer as their kind says.
``/_newsweb/truth`` and ``/_newsweb/log`` (on any host) tell a test what was served.
Run it as ``python -m tests.newsweb --port P [--outlets N --seed S --time-scale X]``.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import socket
import time
from collections import Counter
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .model import Web
from .render import feed_document, page_document

__all__ = ["NewsWebApp", "bind_sockets"]

SLOW_SECONDS = 3.0
RETRY_AFTER_MINUTES = 10.0


class NewsWebApp:
    """The ASGI app over one Web, with the clock and the request log."""

    def __init__(self, web: Web) -> None:
        self.web = web
        self.started = time.monotonic()
        self.page_requests: Counter[str] = Counter()
        self.feed_log: list[dict[str, Any]] = []
        self.app = Starlette(
            routes=[
                Route("/_newsweb/truth", self.truth),
                Route("/_newsweb/log", self.log),
                Route("/_newsweb/now", self.clock),
                Route("/{path:path}", self.serve),
            ]
        )

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self.started) * self.web.settings.time_scale
        return self.web.settings.start + timedelta(seconds=elapsed)

    def real_seconds(self, simulated_minutes: float) -> int:
        return max(1, math.ceil(simulated_minutes * 60 / self.web.settings.time_scale))

    async def truth(self, request: Request) -> Response:
        return JSONResponse({"now": self.now().isoformat(), "stories": self.web.truth(self.now())})

    async def log(self, request: Request) -> Response:
        """Every feed request (``?since=`` a real time: those after it) and page requests."""
        since = float(request.query_params.get("since", "0"))
        feeds = (
            [entry for entry in self.feed_log if entry["at"] > since] if since else self.feed_log
        )
        return JSONResponse({"feeds": feeds, "pages": dict(self.page_requests)})

    async def clock(self, request: Request) -> Response:
        return JSONResponse({"now": self.now().isoformat()})

    async def serve(self, request: Request) -> Response:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0]
        outlet = self.web.outlet_of_host(host)
        if outlet is None:
            return Response("no such site", status_code=404)
        path = request.url.path
        feed = next((f for f in outlet.feeds if f.path == path), None)
        if feed is not None:
            return self._feed(feed, request)
        story = self.web.story_at(outlet.index, path)
        if story is None or story.published > self.now():
            return Response("not found", status_code=404)
        return await self._page(story, request)

    def _feed(self, feed: Any, request: Request) -> Response:
        now = self.now()
        entry = {
            "feed": self.web.feed_url(feed),
            "at": time.time(),
            "simulated": now.isoformat(),
            "conditional": "if-none-match" in request.headers,
        }
        self.feed_log.append(entry)
        if feed.failing:
            trouble = _stable(f"{feed.id}/{now:%Y%m%d%H}") % 6
            if trouble == 0:
                entry["status"] = 500
                return Response("internal error", status_code=500)
            if trouble == 1:
                entry["status"], entry["broken"] = 200, True
                return Response(
                    b"<?xml version='1.0'?><rss><channel><item><title>cut", media_type="text/xml"
                )
        body, content_type = feed_document(self.web, feed, now)
        etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
        newest = max(
            (
                s.edited if s.is_edited_at(now) and s.edited else s.published
                for s in self.web.entries(feed, now)
            ),
            default=self.web.settings.start,
        )
        headers = {
            "ETag": etag,
            "Last-Modified": format_datetime(newest, usegmt=True),
            "Cache-Control": f"max-age={self.real_seconds(self.web.settings.feed_max_age_minutes)}",
        }
        if request.headers.get("if-none-match") == etag:
            entry["status"] = 304
            return Response(status_code=304, headers=headers)
        entry["status"] = 200
        return Response(body, headers={**headers, "Content-Type": content_type})

    async def _page(self, story: Any, request: Request) -> Response:
        url = self.web.story_url(story)
        self.page_requests[url] += 1
        attempt = self.page_requests[url]
        kind = story.page
        if kind == "slow":
            await asyncio.sleep(SLOW_SECONDS)
        elif kind == "not_found":
            return Response("not found", status_code=404)
        elif kind == "gone":
            return Response("gone", status_code=410)
        elif kind == "flaky" and attempt <= 2:
            return Response("try later", status_code=503)
        elif kind == "throttled" and attempt <= 1:
            retry = str(self.real_seconds(RETRY_AFTER_MINUTES))
            return Response("slow down", status_code=429, headers={"Retry-After": retry})
        body, content_type = page_document(self.web, story, self.now())
        return Response(body, headers={"Content-Type": content_type})


def bind_sockets(web: Web) -> list[socket.socket]:
    """One listening socket per outlet address, all on the web's port (loopback only)."""
    sockets = []
    for outlet in web.outlets:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((outlet.host, web.port))
        sock.listen(512)
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


def _stable(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
