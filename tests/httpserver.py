"""A tiny threaded HTTP server for the fetcher's tests: stdlib only, on 127.0.0.1.

Tests register a handler per path; each handler gets the request handler and answers
with ``reply`` (or writes to ``wfile`` itself for slow or odd responses). The server
records every request and, per path, how many were in flight at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

Route = Callable[["Handler"], None]


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]  # names lower-cased


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle and the
    # client's delayed ACK add tens of milliseconds to every keep-alive response.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        test = self.server.test
        test.record(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}))
        path = self.path.split("?")[0]
        route = test.routes.get(path)
        try:
            with test.counting(path):
                if route is None:
                    self.reply(404, b"not found")
                else:
                    route(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up, as some tests intend

    def reply(
        self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        headers = dict(headers or {})
        for name, value in headers.items():
            self.send_header(name, value)
        if not any(name.lower() == "content-length" for name in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    test: TestServer

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-response is what several tests do


class TestServer:
    """Runs in a background thread; use as a context manager."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Recorded] = []
        self._in_flight: dict[str, int] = {}
        self._max_in_flight: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.test = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``, as fetch_allow_hosts lists it."""
        return f"127.0.0.1:{self.port}"

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def route(self, path: str) -> Callable[[Route], Route]:
        def register(handler: Route) -> Route:
            self.routes[path] = handler
            return handler

        return register

    def requests_to(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.split("?")[0] == path]

    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def max_in_flight(self, path: str) -> int:
        """The most requests to ``path`` that were being answered at the same time."""
        with self._lock:
            return self._max_in_flight.get(path, 0)

    def reset_max_in_flight(self) -> None:
        """Start measuring overlap afresh (requests under way still count)."""
        with self._lock:
            self._max_in_flight = dict(self._in_flight)

    @contextmanager
    def counting(self, path: str) -> Iterator[None]:
        with self._lock:
            self._in_flight[path] = self._in_flight.get(path, 0) + 1
            self._max_in_flight[path] = max(self._max_in_flight.get(path, 0), self._in_flight[path])
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[path] -= 1
