"""Every request works under a trace: the caller's W3C ``traceparent``, or a new one.

The events a request publishes carry it on, and every log line about the request names it.
"""

from __future__ import annotations

from newswire_platform.logging import log_context
from newswire_platform.tracing import trace_id_of, traced
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestTracing"]


class RequestTracing:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next(
            (value.decode("latin-1") for name, value in scope["headers"] if name == b"traceparent"),
            None,
        )
        with traced(incoming) as traceparent:
            trace_id = str(trace_id_of(traceparent))
            header = (b"x-trace-id", trace_id.encode())

            async def with_trace_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), header]
                await send(message)

            with log_context(trace_id=trace_id):
                await self.app(scope, receive, with_trace_id)
