"""Talking to the gateway: one client, retries of what is worth retrying, refusals in words."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import httpx
from tqdm import tqdm

__all__ = ["GatewayError", "client", "for_each", "refusal", "rejections", "request"]

T = TypeVar("T")

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


def refusal(response: httpx.Response) -> GatewayError:
    """The status and the problem's ``detail`` (or title, or the body's start)."""
    try:
        body = response.json()
    except ValueError:
        detail = response.text[:200]
    else:
        detail = str(body.get("detail") or body.get("title") or body)[:300]
    return GatewayError(f"{response.status_code} {detail}", status=response.status_code)


async def for_each(
    items: Sequence[T],
    work: Callable[[T], Awaitable[None]],
    *,
    concurrency: int,
    progress: bool,
    unit: str,
    desc: str,
) -> None:
    """``work`` on every item, ``concurrency`` at a time, with a progress bar if asked."""
    limit = asyncio.Semaphore(max(1, concurrency))
    bar = tqdm(total=len(items), unit=unit, disable=not progress, desc=desc)

    async def one(item: T) -> None:
        async with limit:
            await work(item)
        bar.update(1)

    await asyncio.gather(*(one(item) for item in items))
    bar.close()


def rejections(rejected: Sequence[tuple[str, str]], what: str) -> list[str]:
    """The lines under a summary: the rejections counted by reason, then the first ten."""
    if not rejected:
        return []
    reasons = Counter(reason for _, reason in rejected)
    return [
        "rejected, by reason:",
        *(f"  {count:5d}  {reason}" for reason, count in reasons.most_common()),
        f"first rejected {what}:",
        *(f"  {origin}: {reason}" for origin, reason in rejected[:10]),
    ]
