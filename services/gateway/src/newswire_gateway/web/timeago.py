"""Plain-text helpers for the pages: "39 minutes ago", dates, snippets, paragraphs.

``static/live.js`` repeats ``time_ago`` in JavaScript (to keep the texts current in an open
page); the two must agree.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["full_date", "iso", "paragraphs", "snippet", "time_ago"]

_UNITS = (
    ("year", 365 * 86_400),
    ("month", 30 * 86_400),
    ("day", 86_400),
    ("hour", 3_600),
    ("minute", 60),
)


def time_ago(moment: datetime, now: datetime) -> str:
    """How long before ``now`` ``moment`` was, in the largest whole unit: "just now",
    "1 minute ago", "39 minutes ago", "2 days ago"; "in 3 hours" for a future moment.
    Naive datetimes are taken as UTC."""
    seconds = (_aware(now) - _aware(moment)).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            amount = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {amount}" if future else f"{amount} ago"
    return "just now"


def iso(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).isoformat()


def full_date(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).strftime("%d %b %Y, %H:%M UTC")


def _aware(moment: datetime) -> datetime:
    """Store times are UTC; a naive one (never from this store) is taken as UTC too."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_SPACE = re.compile(r"\s+")


def snippet(text: str, limit: int = 160) -> str:
    """The start of ``text`` on one line, cut at a word boundary to at most ``limit``
    characters (an ellipsis included) when longer."""
    flat = _SPACE.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-–—") + "…"


_BLANK_LINE = re.compile(r"\n\s*\n")


def paragraphs(text: str) -> list[str]:
    """The article's paragraphs: split at blank lines, or at line breaks when it has none."""
    text = text.replace("\r\n", "\n").strip()
    parts = _BLANK_LINE.split(text) if _BLANK_LINE.search(text) else text.split("\n")
    return [" ".join(part.split()) for part in parts if part.strip()]
