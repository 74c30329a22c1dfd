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
        incoming = dict(scope["headers"]).get(b"traceparent", b"").decode("latin-1") or None
        with traced(incoming) as traceparent, log_context(trace_id=trace_id_of(traceparent)):

            async def with_trace_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [
                        *message.get("headers", []),
                        (b"x-trace-id", str(trace_id_of(traceparent)).encode()),
                    ]
                await send(message)

            await self.app(scope, receive, with_trace_id)
