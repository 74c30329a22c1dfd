"""Submitting articles through the gateway, concurrently, with a progress bar and a summary."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from newswire_contracts import article_id, canonicalize_url

from . import gateway
from .records import Record, RecordError, read_records

__all__ = ["SubmitSummary", "submit_paths", "wait_for_article"]


@dataclass
class SubmitSummary:
    accepted: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    """(origin, reason) of every record the gateway or the reader refused."""

    def render(self) -> str:
        head = f"accepted {len(self.accepted)}, rejected {len(self.rejected)}"
        return "\n".join([head, *gateway.rejections(self.rejected, "records")])


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
    async with gateway.client(gateway_url, api_key, timeout) as client:

        async def submit(record: Record) -> None:
            try:
                response = await gateway.request(client, "POST", "/v1/articles", json=record.body)
                if response.status_code != 202:
                    raise gateway.refusal(response)
            except gateway.GatewayError as exc:
                summary.rejected.append((record.origin, exc.reason))
            else:
                summary.accepted.append(response.json()["id"])

        await gateway.for_each(
            records,
            submit,
            concurrency=concurrency,
            progress=progress,
            unit="article",
            desc="submitting",
        )
    return summary


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
