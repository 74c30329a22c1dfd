"""Talking to the gateway: one client, retries of what is worth retrying, refusals in words."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

__all__ = ["GatewayError", "client", "problem_detail", "refusal", "request"]

_RETRY_STATUSES = {429, 502, 503, 504}
_MAX_ATTEMPTS = 5
_MAX_RETRY_AFTER = 30.0


class GatewayError(Exception):
    """The gateway refused a request (or could not be reached); ``reason`` says why."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def client(gateway_url: str, api_key: str | None, timeout: float) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.AsyncClient(base_url=gateway_url, headers=headers, timeout=timeout)


async def request(
    client: httpx.AsyncClient, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    """The gateway's answer, after retrying what is worth retrying: 429, 502-504 (honouring
    Retry-After) and transport errors, with exponential backoff."""
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            if attempt == _MAX_ATTEMPTS:
                raise GatewayError(f"gateway unreachable: {type(exc).__name__}") from exc
            await asyncio.sleep(0.5 * 2**attempt)
            continue
        if response.status_code in _RETRY_STATUSES and attempt < _MAX_ATTEMPTS:
            await asyncio.sleep(_retry_after(response, default=0.5 * 2**attempt))
            continue
        return response
    raise AssertionError("unreachable")  # pragma: no cover - the loop always returns


def _retry_after(response: httpx.Response, *, default: float) -> float:
    """Retry-After in seconds (an HTTP date or garbage falls back to ``default``)."""
    try:
        return min(max(float(response.headers.get("Retry-After", default)), 0.0), _MAX_RETRY_AFTER)
    except ValueError:
        return default


def problem_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail") or body.get("title") or body)[:300]


def refusal(response: httpx.Response) -> GatewayError:
    return GatewayError(
        f"{response.status_code} {problem_detail(response)}", status=response.status_code
    )
