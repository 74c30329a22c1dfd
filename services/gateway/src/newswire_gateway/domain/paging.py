"""Cursor pagination: an opaque cursor is the sort key (time, id) of the last item of a page.

A cursor names a position, not an item, so a page stays correct when the item it ended on
is deleted or new items arrive.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from .errors import Invalid

__all__ = ["Page", "page_of", "position_of"]

T = TypeVar("T")
Position = tuple[datetime, str]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_of(items: Sequence[T], limit: int, position: Callable[[T], Position]) -> Page[T]:
    """The first ``limit`` of ``items``, with a cursor after the last of them if more follow."""
    shown = list(items[:limit])
    if len(items) <= limit:
        return Page(shown, None)
    moment, identifier = position(shown[-1])
    cursor = json.dumps([moment.isoformat(), identifier]).encode()
    return Page(shown, base64.urlsafe_b64encode(cursor).decode().rstrip("="))


def position_of(cursor: str | None) -> Position | None:
    """The position a cursor from ``page_of`` names; Invalid for any other string."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment, identifier = key
        if isinstance(moment, str) and isinstance(identifier, str):
            return datetime.fromisoformat(moment), identifier
    except (TypeError, ValueError):
        pass
    raise Invalid("cursor is not one this API gave out")
