"""Cursor pagination: a cursor is the sort key (time, id) of the last item of a page.

A cursor names a position, not an item, so a page stays correct when the item it ended on
is deleted or new items arrive. It is written ``<microseconds since 1970 UTC>.<id>``, and
every string of that form (``CURSOR_PATTERN``) is a position the listing can start from:
a time beyond what a datetime holds is taken as the earliest or latest one there is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from .errors import Invalid

__all__ = ["CURSOR_MAX_LENGTH", "CURSOR_PATTERN", "Page", "page_of", "position_of"]

T = TypeVar("T")
Position = tuple[datetime, str]

CURSOR_PATTERN = r"^-?[0-9]{1,18}\.[0-9a-z_-]{1,64}$"
"""Every cursor, as the API documents it: the time in microseconds, a dot, and an id."""
CURSOR_MAX_LENGTH = 84

_CURSOR = re.compile(CURSOR_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)
_MICROSECONDS = timedelta(microseconds=1)


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
    return Page(shown, f"{(moment - _EPOCH) // _MICROSECONDS}.{identifier}")


def position_of(cursor: str | None) -> Position | None:
    """The position a cursor names; Invalid for a string not of the cursor's form."""
    if cursor is None:
        return None
    # fullmatch: "$" alone would also let a final newline through.
    if not _CURSOR.fullmatch(cursor):
        raise Invalid("cursor is not one this API gave out (it is <microseconds>.<id>)")
    micros, identifier = cursor.split(".", 1)
    try:
        moment = _EPOCH + timedelta(microseconds=int(micros))
    except OverflowError:
        moment = _EARLIEST if micros.startswith("-") else _LATEST
    return moment, identifier
