"""The handler edge: what can never be ingested is dead-lettered, what may pass is retried."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from newswire_contracts import IngestArticle
from newswire_ingest.adapters.fetching import FetchError
from newswire_ingest.handlers import IngestDependencies, ingest_requested
from newswire_platform import PermanentError

pytestmark = pytest.mark.service


class FailingFetcher:
    def __init__(self, error: FetchError) -> None:
        self.error = error

    async def get(self, url: str, **_: Any) -> None:
        raise self.error


NOW = datetime(2026, 1, 1, tzinfo=UTC)
URL = "https://news.example/a"


def deps(fetcher: Any = None) -> IngestDependencies:
    return IngestDependencies(fetcher, None, None, None, None, lambda: NOW)  # type: ignore[arg-type]


async def test_a_rejected_article_is_a_permanent_error() -> None:
    command = IngestArticle(url=URL, html="<html><body>Home</body></html>", submitted_at=NOW)
    with pytest.raises(PermanentError, match="no article text could be extracted"):
        await ingest_requested(command, 0, deps())


async def test_a_page_that_can_never_be_fetched_is_a_permanent_error() -> None:
    fetcher = FailingFetcher(FetchError("HTTP 404 Not Found", status=404, permanent=True))
    with pytest.raises(PermanentError, match=r"cannot fetch .*: HTTP 404"):
        await ingest_requested(IngestArticle(url=URL, submitted_at=NOW), 0, deps(fetcher))


async def test_a_fetch_that_may_pass_is_retried() -> None:
    fetcher = FailingFetcher(FetchError("HTTP 503 Service Unavailable", status=503))
    with pytest.raises(FetchError, match="HTTP 503"):
        await ingest_requested(IngestArticle(url=URL, submitted_at=NOW), 0, deps(fetcher))
