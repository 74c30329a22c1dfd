"""The API's scalar types as the OpenAPI document gives them and the server enforces them.

Ids, cursors, URLs, comment text, times and integers: each is a pattern or format in the
document and a validator here that takes exactly what it describes (test_patterns checks
both ways, and against the reading of the JSON Schema engine clients use).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query
from newswire_contracts import InvalidURLError, canonicalize_url
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

from .domain.paging import CURSOR_MAX_LENGTH, CURSOR_PATTERN

__all__ = [
    "COMMENT_TEXT_PATTERN",
    "CONTROL_CHARACTERS",
    "FEED_URL_MAX_LENGTH",
    "FEED_URL_PATTERN",
    "HEX_ID_PATTERN",
    "STORY_ID_PATTERN",
    "URL_PATTERN",
    "CommentText",
    "Cursor",
    "CursorParam",
    "FeedUrlText",
    "HexId",
    "HttpUrlText",
    "PollInterval",
    "Rfc3339",
    "StoryId",
]

HEX_ID_PATTERN = r"^[0-9a-f]{32}$"
"""Article, feed and comment ids: 32 hex digits (of SHA-256 over the canonical URL, for the
first two)."""
STORY_ID_PATTERN = r"^[0-9a-z_-]{1,64}$"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:[0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_ORIGIN = rf"^[Hh][Tt][Tt][Pp][Ss]?://(?:{_LABEL}\.)*{_LABEL}\.?(?::{_PORT})?"
URL_PATTERN = _ORIGIN + r"(?:[/?#][^\x00-\x20\x7f]*)?$"
"""The URLs the API takes: http or https, a host name in ASCII (an IDN in its xn-- form) or an
IPv4 address, an optional port, then anything without spaces or control characters. No
credentials. Every such URL has a canonical form (tested), so the pattern is the whole rule."""
FEED_URL_PATTERN = _ORIGIN + r"(?:[/?#][!-~]*)?$"
"""Feed URLs: the same in ASCII only (characters beyond it percent-encoded)."""
FEED_URL_MAX_LENGTH = 680
"""The gateway registers a feed under its canonical URL, which must fit the contract's 2,048
characters: canonicalising an ASCII URL at most triples it (an escape for each character),
plus a "/" for an empty path."""

_SPACE = r"\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
COMMENT_TEXT_PATTERN = rf"^[\t\n\r\x20{_SPACE}]*[^\x00-\x20{_SPACE}][^\x00-\x08\x0b\x0c\x0e-\x1f]*$"
"""Comment text: no control character but tab and line breaks, and something besides white
space (Python's, which the server strips)."""
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _url_of(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def validate(value: str) -> str:
        try:
            canonicalize_url(value)
        except InvalidURLError as exc:
            raise ValueError(str(exc)) from exc
        # fullmatch: "$" alone would also let a final newline through.
        if not pattern.fullmatch(value):
            raise ValueError(
                "URL must be http(s)://host[:port][/path][?query]: a host name in ASCII (xn-- "
                f"for an international one) or an IPv4 address, no credentials, {what}"
            )
        return value

    return validate


HttpUrlText = Annotated[
    str,
    Field(min_length=1, max_length=2048, json_schema_extra={"pattern": URL_PATTERN}),
    AfterValidator(_url_of(re.compile(URL_PATTERN), "no spaces or control characters")),
]
FeedUrlText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=FEED_URL_MAX_LENGTH,
        json_schema_extra={"pattern": FEED_URL_PATTERN},
    ),
    AfterValidator(
        _url_of(re.compile(FEED_URL_PATTERN), "only printable ASCII (percent-encode the rest)")
    ),
]

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339_text(value: object) -> object:
    # pydantic alone would also take numbers (as Unix times), a space for the T, no seconds.
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2025-07-08T09:00:00Z")
    return value


def _representable(value: datetime) -> datetime:
    # 0001-01-01T00:00:00+01:00 is a valid date-time, but before the earliest UTC time there is.
    try:
        value.astimezone(UTC)
    except OverflowError:
        bound = datetime.min if value.year == 1 else datetime.max
        return bound.replace(tzinfo=UTC)
    return value


def _json_number(value: object) -> object:
    # pydantic would also take "60" and true; JSON Schema's integer is any number without a
    # fraction, 60.0 included, which pydantic takes.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    return value


# The bounds go before the validator: after it, pydantic writes them to the JSON schema as
# "ge" and "le", which no JSON Schema reader knows.
PollInterval = Annotated[int, Field(ge=60, le=7 * 86_400), BeforeValidator(_json_number)]

Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_representable)]
"""An RFC 3339 date-time with an offset, as the document's date-time format says; one beyond
what UTC can hold here is taken as the earliest or latest time there is."""
HexId = Annotated[str, Field(json_schema_extra={"pattern": HEX_ID_PATTERN})]
StoryId = Annotated[str, Field(json_schema_extra={"pattern": STORY_ID_PATTERN})]
Cursor = Annotated[
    str,
    Field(
        json_schema_extra={"pattern": CURSOR_PATTERN},
        description="Pass as cursor for the next page; null on the last.",
    ),
]
CursorParam = Annotated[
    str | None,
    Query(
        max_length=CURSOR_MAX_LENGTH,
        pattern=CURSOR_PATTERN,
        description="next_cursor of the previous page",
    ),
]
"""The ``cursor`` query parameter of a listing."""
CommentText = Annotated[
    str, Field(min_length=1, json_schema_extra={"pattern": COMMENT_TEXT_PATTERN})
]
