"""Word count and reading time."""

from __future__ import annotations

import math
import re

__all__ = ["reading_time_minutes", "word_count"]

_WORD = re.compile("\\w+(?:[-'\u2019]\\w+)*")  # hyphens and (curly) apostrophes join


def word_count(text: str) -> int:
    """Words as a reader counts them: hyphenated and apostrophe forms count once."""
    return sum(1 for _ in _WORD.finditer(text))


def reading_time_minutes(words: int, words_per_minute: int = 230) -> int:
    """Whole minutes, rounded up; 0 only for an empty text."""
    return math.ceil(words / words_per_minute) if words > 0 else 0
