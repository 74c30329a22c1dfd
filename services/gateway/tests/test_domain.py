"""The gateway's pure rules: cursor pages, search words, renewed feed registrations."""

import base64
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from newswire_gateway.domain.errors import Invalid
from newswire_gateway.domain.models import FeedRegistration, query_terms
from newswire_gateway.domain.paging import (
    CURSOR_MAX_LENGTH,
    CURSOR_PATTERN,
    page_of,
    position_of,
)

pytestmark = pytest.mark.unit

NOW = datetime(2025, 7, 16, 11, 0, tzinfo=UTC)


def test_a_cursor_names_the_position_of_the_last_item_shown() -> None:
    page = page_of(["c", "b", "a"], 2, lambda item: (NOW, item))
    assert page.items == ["c", "b"]
    assert page.next_cursor == "1752663600000000.b"
    assert position_of(page.next_cursor) == (NOW, "b")
    assert page_of(["c", "b"], 2, lambda item: (NOW, item)).next_cursor is None
    assert position_of(None) is None


@pytest.mark.parametrize(
    "moment",
    [
        NOW.replace(microsecond=123_456),
        datetime(1900, 1, 1, tzinfo=UTC),
        datetime.min.replace(tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
        NOW.astimezone(timezone(timedelta(hours=-5))),
    ],
)
def test_every_time_round_trips_through_a_cursor_of_the_documented_form(moment: datetime) -> None:
    cursor = page_of(["b", "a"], 1, lambda item: (moment, "0f" * 16)).next_cursor
    assert cursor is not None
    assert re.fullmatch(CURSOR_PATTERN, cursor)
    assert len(cursor) <= CURSOR_MAX_LENGTH
    assert position_of(cursor) == (moment, "0f" * 16)


@pytest.mark.parametrize(
    ("cursor", "position"),
    [
        ("0.a", (datetime(1970, 1, 1, tzinfo=UTC), "a")),
        ("-1.story_1-x", (datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), "story_1-x")),
        ("000000000000000001.z", (datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC), "z")),
        # Beyond what a datetime holds: the earliest or latest position there is.
        ("999999999999999999.a", (datetime.max.replace(tzinfo=UTC), "a")),
        ("-999999999999999999.a", (datetime.min.replace(tzinfo=UTC), "a")),
    ],
)
def test_any_string_of_the_cursor_form_is_a_position(
    cursor: str, position: tuple[datetime, str]
) -> None:
    assert re.fullmatch(CURSOR_PATTERN, cursor)
    assert position_of(cursor) == position


def _encoded(key: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!",
        "bm90IGpzb24",
        _encoded(["2025-07-16T11:00:00+00:00", "b"]),  # the form cursors had before
        "1752663600000000",
        ".b",
        "1.",
        "1.B",
        "1.b\n",
        "1.5.b",
        "+1.b",
        "1234567890123456789.b",
        "1." + "b" * 65,
    ],
)
def test_other_cursors_are_invalid(cursor: str) -> None:
    assert not re.fullmatch(CURSOR_PATTERN, cursor)
    with pytest.raises(Invalid, match="cursor is not one this API gave out"):
        position_of(cursor)


def test_a_search_leaves_out_what_is_not_indexed() -> None:
    assert query_terms("North Korea's missiles") == ("north", "korea", "missiles")
    assert query_terms(None) == ()
    # Stop words and one-letter words are not indexed: a search of nothing else filters nothing.
    assert query_terms("the and a") == ()
    assert query_terms("0") == ()


def test_registering_again_keeps_what_is_left_out() -> None:
    before = FeedRegistration(
        id="f", url="u", title="Wire", poll_interval_seconds=600, created_at=NOW, updated_at=NOW
    )
    later = NOW.replace(hour=12)
    asked = before.model_copy(
        update={
            "title": None,
            "poll_interval_seconds": None,
            "created_at": later,
            "updated_at": later,
        }
    )
    kept = asked.renewing(before, interval_given=False)
    assert (kept.title, kept.poll_interval_seconds, kept.created_at) == ("Wire", 600, NOW)
    assert kept.updated_at == later
    assert asked.renewing(before, interval_given=True).poll_interval_seconds is None
    assert asked.renewing(None, interval_given=False) == asked
