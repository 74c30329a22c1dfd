"""Ingest settings (``NEWSWIRE_`` environment variables)."""

from typing import ClassVar

from newswire_platform import CommaList, StoreSettings
from pydantic import Field


class IngestSettings(StoreSettings):
    """What the ingest service reads from the environment.

    Fetch limits follow Miniflux's: 10 s to connect, 20 s in all, 15 MiB per body.
    """

    service_name: ClassVar[str] = "ingest"

    ingest_port: int = Field(
        default=8081, description="Port of ingest's /healthz, /readyz, /metrics."
    )

    fetch_user_agent: str = Field(
        default="Newswire/0.1 (feed reader; +https://github.com/newswire/newswire)",
        description="User-Agent sent with every feed and page request.",
    )
    fetch_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    fetch_timeout_seconds: float = Field(
        default=20.0, gt=0, description="Whole request, body included."
    )
    fetch_max_bytes: int = Field(
        default=15 * 1024 * 1024, ge=1024, description="Largest body read."
    )
    fetch_max_redirects: int = Field(default=5, ge=0)
    fetch_per_host_concurrency: int = Field(
        default=2, ge=1, description="Requests at once to one host."
    )
    fetch_allow_hosts: CommaList = Field(
        default_factory=list,
        description="host, host:port or a network (CIDR, e.g. 10.1.0.0/16) that may be fetched "
        "although it is or resolves to a loopback or private address "
        "(NEWSWIRE_FETCH_ALLOW_HOSTS); none by default.",
    )

    feed_default_interval_seconds: int = Field(
        default=900, ge=1, description="Poll interval of a new feed."
    )
    feed_min_interval_seconds: int = Field(
        default=300, ge=1, description="Never poll a feed more often."
    )
    feed_max_interval_seconds: int = Field(
        default=86_400, ge=1, description="Never poll a feed less often."
    )
    feed_max_backoff_seconds: int = Field(
        default=86_400, ge=1, description="Cap on a failing feed's backoff."
    )
    feed_jitter_ratio: float = Field(
        default=0.1, ge=0, le=0.5, description="Random spread of poll times."
    )
    feed_max_entries_per_poll: int = Field(
        default=100, ge=1, description="Newest entries taken per poll."
    )
    feed_poll_concurrency: int = Field(
        default=8, ge=1, description="Feeds polled at once by one instance."
    )
    feed_poll_timeout_seconds: float = Field(
        default=600.0,
        gt=0,
        description="A poll taking longer is abandoned and recorded as failed (step poll).",
    )
    feed_watchdog_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often the scheduler checks that no owned feed is overdue and idle.",
    )
    page_fetch_concurrency: int = Field(
        default=4, ge=1, description="Article pages fetched at once by one instance."
    )
    page_retry_seconds: float = Field(
        default=900.0,
        gt=0,
        description="First wait before a page that failed for now is tried again (doubling).",
    )
    page_retry_max_seconds: float = Field(
        default=6 * 3600.0, gt=0, description="Longest wait between two tries of a page."
    )
    page_retry_attempts: int = Field(
        default=8,
        ge=1,
        description="Fetches of a page at most, the first included; then the feed's text stays.",
    )
    article_claim_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A version claimed and not published for this long is published by the "
        "next writer of the article (its writer is taken to be gone).",
    )
    full_text_min_chars: int = Field(
        default=600,
        ge=0,
        description="Feed entries with less text than this are summaries: the page is fetched for the article.",
    )
