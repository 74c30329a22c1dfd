"""The yardstick of the API benchmark: FastAPI routes returning constant JSON documents.

``python -m bench.bareapp PORT NAME=FILE [NAME=FILE ...]`` serves each file's bytes at
``GET /bare/NAME`` as ``application/json``, encoded once at start-up: the least a FastAPI
route can do to answer with that document. It runs under the same server configuration as
the gateway, through the very function the services use
(``newswire_platform.service.run``: uvicorn, one worker, access log off, the same loop and
HTTP implementation), so the two differ by the gateway's own work only.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Response
from newswire_platform import ServiceSettings, run


class BareSettings(ServiceSettings):
    bare_port: int = 0

    @property
    def http_port(self) -> int:
        return self.bare_port


def constant_route(body: bytes) -> Callable[[], Awaitable[Response]]:
    """An async route (like the gateway's: run on the event loop) answering ``body``."""

    async def route() -> Response:
        return Response(content=body, media_type="application/json")

    return route


def create_app(documents: dict[str, bytes]) -> FastAPI:
    app = FastAPI(title="bare")
    for name, body in documents.items():
        app.add_api_route(f"/bare/{name}", constant_route(body), methods=["GET"])
    return app


def main() -> None:
    port, *pairs = sys.argv[1:]
    documents = {}
    for pair in pairs:
        name, _, file = pair.partition("=")
        documents[name] = Path(file).read_bytes()
    settings = BareSettings(bare_port=int(port))
    run(settings, lambda: create_app(documents))


if __name__ == "__main__":
    main()
