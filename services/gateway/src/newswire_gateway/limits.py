"""A cap on request body size, enforced before anything reads the body."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import PROBLEM_JSON, Problem

__all__ = ["BodySizeLimit"]


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """ASGI middleware: 413 problem for a body larger than ``max_bytes``.

    Checks ``Content-Length`` up front and counts the bytes of chunked bodies as they
    arrive, so a client cannot stream an unbounded body into memory.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = chunked = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = value
        if declared is None and chunked is None and scope.get("http_version") in ("1.0", "1.1"):
            # HTTP/1 without either header has no body (RFC 9112, 6.3): a GET. Nothing to count.
            await self.app(scope, receive, send)
            return
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._reject(scope, send)
            return
        seen = 0
        exceeded = False
        replaced = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # Whatever error response the app makes of _TooLarge becomes our 413.
            nonlocal replaced
            if not exceeded:
                await send(message)
            elif message["type"] == "http.response.start" and not replaced:
                replaced = True
                await self._reject(scope, send)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            if not replaced:
                await self._reject(scope, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        problem = Problem(
            title="Content Too Large",
            status=413,
            detail=f"request body exceeds {self.max_bytes} bytes",
            instance=scope.get("path", ""),
        )
        payload = json.dumps(problem.model_dump(exclude_none=True)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
