"""The gateway's feed endpoints (/v1/feeds): register, list, remove, import many at once.

Every function takes the gateway's URL (and the API key where it writes) and returns
plain dataclasses; gateway refusals raise GatewayError with the problem's ``detail``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from .gateway import GatewayError, client, for_each, refusal, rejections, request
from .opml import OpmlFeed

__all__ = [
    "Feed",
    "FeedStatus",
    "ImportSummary",
    "add_feed",
    "import_feeds",
    "list_feeds",
    "remove_feed",
]

# RegisterFeed caps titles at 200 characters; a long OPML title should not cost the feed.
_MAX_TITLE = 200


@dataclass(frozen=True)
class FeedStatus:
    """How polling a feed goes, as ingest reports it."""

    state: str  # pending | ok | failing
    last_fetch_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    error_count: int = 0
    entries_seen: int = 0
    articles_published: int = 0
    feed_title: str | None = None
    site_url: str | None = None


@dataclass(frozen=True)
class Feed:
    """A registered feed: what the commands show of it; ``raw`` has the rest."""

    id: str
    url: str
    title: str | None
    status: FeedStatus
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The gateway's JSON, as received."""

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Feed:
        status = body.get("status") or {}
        return cls(
            id=body["id"],
            url=body["url"],
            title=body.get("title"),
            status=FeedStatus(
                state=status.get("state", "pending"),
                last_fetch_at=_datetime(status.get("last_fetch_at")),
                last_status=status.get("last_status"),
                last_error=status.get("last_error"),
                error_count=status.get("error_count", 0),
                entries_seen=status.get("entries_seen", 0),
                articles_published=status.get("articles_published", 0),
                feed_title=status.get("feed_title"),
                site_url=status.get("site_url"),
            ),
            raw=body,
        )

    def as_opml(self) -> OpmlFeed:
        """For export: the registered title, else the one the feed gives itself."""
        return OpmlFeed(
            url=self.url,
            title=self.title or self.status.feed_title,
            html_url=self.status.site_url,
        )


@dataclass
class ImportSummary:
    new: list[Feed] = field(default_factory=list)
    existing: list[Feed] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    """(url, reason) of every feed the gateway refused."""

    def render(self) -> str:
        registered = len(self.new) + len(self.existing)
        head = (
            f"registered {registered} (new {len(self.new)}, already there "
            f"{len(self.existing)}), rejected {len(self.rejected)}"
        )
        return "\n".join([head, *rejections(self.rejected, "feeds")])


async def import_feeds(
    feeds: Sequence[OpmlFeed],
    *,
    gateway_url: str,
    api_key: str,
    concurrency: int = 8,
    progress: bool = True,
    timeout: float = 30.0,
) -> ImportSummary:
    """Register every feed (POST /v1/feeds); never raises for one refused feed."""
    summary = ImportSummary()
    async with client(gateway_url, api_key, timeout) as http:

        async def register(feed: OpmlFeed) -> None:
            try:
                registered, created = await _register(http, feed.url, feed.title, None)
            except GatewayError as exc:
                summary.rejected.append((feed.url, exc.reason))
            else:
                (summary.new if created else summary.existing).append(registered)

        await for_each(
            feeds,
            register,
            concurrency=concurrency,
            progress=progress,
            unit="feed",
            desc="registering",
        )
    return summary


async def add_feed(
    url: str,
    *,
    gateway_url: str,
    api_key: str,
    title: str | None = None,
    interval: int | None = None,
    timeout: float = 30.0,
) -> tuple[Feed, bool]:
    """Register one feed; the feed and whether it is new (False: it was updated)."""
    async with client(gateway_url, api_key, timeout) as http:
        return await _register(http, url, title, interval)


async def list_feeds(
    *, gateway_url: str, api_key: str | None = None, page_size: int = 500, timeout: float = 30.0
) -> list[Feed]:
    """Every registered feed, oldest first, following ``next_cursor`` to the last page."""
    feeds: list[Feed] = []
    cursor: str | None = None
    async with client(gateway_url, api_key, timeout) as http:
        while True:
            params: dict[str, str | int] = {"limit": page_size}
            if cursor:
                params["cursor"] = cursor
            response = await request(http, "GET", "/v1/feeds", params=params)
            if response.status_code != 200:
                raise refusal(response)
            page = response.json()
            feeds.extend(Feed.from_json(item) for item in page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return feeds


async def remove_feed(
    feed_id: str, *, gateway_url: str, api_key: str, timeout: float = 30.0
) -> None:
    """Stop polling a feed and forget it (DELETE /v1/feeds/{id})."""
    async with client(gateway_url, api_key, timeout) as http:
        response = await request(http, "DELETE", f"/v1/feeds/{feed_id}")
        if response.status_code != 204:
            raise refusal(response)


async def _register(
    http: httpx.AsyncClient, url: str, title: str | None, interval: int | None
) -> tuple[Feed, bool]:
    body: dict[str, Any] = {"url": url}
    if title:
        body["title"] = title[:_MAX_TITLE]
    if interval is not None:
        body["poll_interval_seconds"] = interval
    response = await request(http, "POST", "/v1/feeds", json=body)
    if response.status_code not in (200, 201):
        raise refusal(response)
    return Feed.from_json(response.json()), response.status_code == 201


def _datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
