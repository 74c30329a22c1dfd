"""Opaque pagination cursors: the sort key of the last item of a page.

A cursor names a position, not an item, so a page stays correct when the item it ended on
is deleted or new items arrive.
"""

from __future__ import annotations

import base64
import json

from .problems import ProblemError

__all__ = ["decode_cursor", "encode_cursor"]


def encode_cursor(*key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, ...]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as exc:
        raise ProblemError(422, "cursor is not one this API gave out") from exc
    if not isinstance(key, list) or not all(isinstance(part, str) for part in key):
        raise ProblemError(422, "cursor is not one this API gave out")
    return tuple(key)
