"""The gateway's pure rules: cursor pages, search words, renewed feed registrations."""

import base64
import json
from datetime import UTC, datetime

import pytest
from newswire_gateway.domain.errors import Invalid
from newswire_gateway.domain.models import FeedRegistration, query_terms
from newswire_gateway.domain.paging import page_of, position_of

pytestmark = pytest.mark.unit

NOW = datetime(2025, 7, 16, 11, 0, tzinfo=UTC)


def test_a_cursor_names_the_position_of_the_last_item_shown() -> None:
    page = page_of(["c", "b", "a"], 2, lambda item: (NOW, item))
    assert page.items == ["c", "b"]
    assert position_of(page.next_cursor) == (NOW, "b")
    assert page_of(["c", "b"], 2, lambda item: (NOW, item)).next_cursor is None
    assert position_of(None) is None


def _encoded(key: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    ["", "!!", "bm90IGpzb24", _encoded([1, 2]), _encoded(["a", "b", "c"]), _encoded(["x", "y"])],
)
def test_other_cursors_are_invalid(cursor: str) -> None:
    with pytest.raises(Invalid, match="cursor is not one this API gave out"):
        position_of(cursor)


def test_a_search_needs_a_searchable_word() -> None:
    assert query_terms("North Korea's missiles") == ("north", "korea", "missiles")
    assert query_terms(None) == ()
    with pytest.raises(Invalid, match="q has no searchable words"):
        query_terms("the and a")


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
