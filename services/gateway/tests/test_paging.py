"""Cursor pages: a cursor names the position after a page; no other string is taken for one."""

import base64
import json
from datetime import UTC, datetime

import pytest
from newswire_gateway.domain.errors import Invalid
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
