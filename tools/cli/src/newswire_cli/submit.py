"""Submitting articles through the gateway, concurrently, with a progress bar and a summary."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from newswire_contracts import article_id, canonicalize_url
from tqdm import tqdm

from .records import Record, RecordError, read_records

__all__ = ["SubmitSummary", "submit_paths", "wait_for_article"]

_RETRY_STATUSES = {429, 502, 503, 504}
_MAX_ATTEMPTS = 5


@dataclass
class SubmitSummary:
    accepted: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    """(origin, reason) of every record the gateway or the reader refused."""

    def render(self) -> str:
        lines = [f"accepted {len(self.accepted)}, rejected {len(self.rejected)}"]
        if self.rejected:
            reasons = Counter(reason for _, reason in self.rejected)
            lines.append("rejected, by reason:")
            for reason, count in reasons.most_common():
                lines.append(f"  {count:5d}  {reason}")
            lines.append("first rejected records:")
            lines.extend(f"  {origin}: {reason}" for origin, reason in self.rejected[:10])
        return "\n".join(lines)


async def submit_paths(
    paths: Iterable[Path],
    *,
    gateway_url: str,
    api_key: str | None,
    concurrency: int = 8,
    progress: bool = True,
    timeout: float = 30.0,
) -> SubmitSummary:
    """POST every record under ``paths`` to ``/v1/articles``; never raises for one bad record."""
    summary = SubmitSummary()
    records: list[Record] = []
    for path in paths:
        for item in read_records(Path(path)):
            if isinstance(item, RecordError):
                summary.rejected.append((item.origin, item.reason))
            else:
                records.append(item)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    limit = asyncio.Semaphore(concurrency)
    bar = tqdm(total=len(records), unit="article", disable=not progress, desc="submitting")
    async with httpx.AsyncClient(base_url=gateway_url, headers=headers, timeout=timeout) as client:

        async def one(record: Record) -> None:
            async with limit:
                outcome = await _post(client, record)
            if isinstance(outcome, str):
                summary.rejected.append((record.origin, outcome))
            else:
                summary.accepted.append(outcome[0])
            bar.update(1)

        await asyncio.gather(*(one(record) for record in records))
    bar.close()
    return summary


async def _post(client: httpx.AsyncClient, record: Record) -> tuple[str] | str:
    """The accepted id as a 1-tuple, or the rejection reason."""
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        try:
            response = await client.post("/v1/articles", json=record.body)
        except httpx.TransportError as exc:
            if attempt == _MAX_ATTEMPTS:
                return f"gateway unreachable: {type(exc).__name__}"
            await asyncio.sleep(0.5 * 2**attempt)
            continue
        if response.status_code == 202:
            return (response.json()["id"],)
        if response.status_code in _RETRY_STATUSES and attempt < _MAX_ATTEMPTS:
            await asyncio.sleep(float(response.headers.get("Retry-After", 0.5 * 2**attempt)))
            continue
        return f"{response.status_code} {_problem_detail(response)}"
    return "gave up"  # pragma: no cover - the loop always returns


def _problem_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail") or body.get("title") or body)[:300]


async def wait_for_article(gateway_url: str, url: str, *, timeout: float = 120.0) -> str:
    """Wait until the article at ``url`` is readable from the gateway; return its id."""
    identifier = article_id(canonicalize_url(url))
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=gateway_url, timeout=10.0) as client:
        while True:
            response = await client.get(f"/v1/articles/{identifier}")
            if response.status_code == 200:
                return identifier
            if time.monotonic() > deadline:
                raise TimeoutError(f"article {identifier} not readable after {timeout:.0f}s")
            await asyncio.sleep(0.5)
