"""NEWSWIRE_ENRICH_BATCH_WAIT_MS reaches enrich's consumer: the broker may hold its fetch that
long for a batch's worth; at 0 (the default) it hands over whatever has come."""

from __future__ import annotations

from typing import Any

from newswire_enrich.config import EnrichSettings
from newswire_enrich.main import EVENT_BYTES, build_app


def consumer_arguments(**settings: Any) -> dict[str, Any]:
    app = build_app(EnrichSettings(**settings))
    [subscriber] = app.broker.subscribers
    # FastStream keeps the consumer's arguments until it starts; none other is public.
    return dict(subscriber._connection_args)


def test_by_default_a_fetch_returns_whatever_has_come() -> None:
    arguments = consumer_arguments()
    assert arguments["fetch_min_bytes"] == 1


def test_a_batch_wait_holds_the_fetch_for_a_batch_of_articles() -> None:
    arguments = consumer_arguments(enrich_batch_wait_ms=150, enrich_batch_size=8)
    assert arguments["fetch_max_wait_ms"] == 150
    assert arguments["fetch_min_bytes"] == 8 * EVENT_BYTES
