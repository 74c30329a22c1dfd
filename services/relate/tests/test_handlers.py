"""Relate's batch handling, without a broker: refresh requests coalesced."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from newswire_contracts import EventMeta
from newswire_platform import Decoded
from newswire_relate.handlers import coalesce
from newswire_relate.refresh import RelateRefresh

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def request(kind: str, n: int, offset: int) -> Decoded[RelateRefresh]:
    record: ConsumerRecord[Any, Any] = ConsumerRecord(
        "relate.refresh", 0, offset, 0, 0, None, b"", None, 0, 0, []
    )
    meta = EventMeta(
        id=f"event-{offset}", source="/relate", type=RelateRefresh.event_type, time=NOW
    )
    return Decoded(RelateRefresh(kind=kind, id=f"{n:032x}", requested_at=NOW), meta, record)  # type: ignore[arg-type]


def test_each_article_and_story_is_refreshed_once_in_order_of_first_request() -> None:
    batch = [
        request("article", 1, 0),
        request("article", 2, 1),
        request("article", 1, 2),
        request("story", 1, 3),
        request("article", 2, 4),
        request("story", 1, 5),
    ]
    kept = coalesce(batch)
    assert [(r.event.kind, r.event.id[-1], r.record.offset) for r in kept] == [
        ("article", "1", 0),
        ("article", "2", 1),
        ("story", "1", 3),
    ]
