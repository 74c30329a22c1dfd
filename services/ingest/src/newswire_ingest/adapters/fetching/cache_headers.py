"""What a response's caching headers say: how long it stays fresh, how long to wait."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

__all__ = ["freshness_seconds", "retry_after_seconds"]


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def _non_negative_int(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip().strip('"')
    return int(value) if value.isascii() and value.isdigit() else None


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait by a Retry-After value (delay-seconds or HTTP-date); never negative."""
    if value is None:
        return None
    seconds = _non_negative_int(value)
    if seconds is not None:
        return float(seconds)
    when = _http_date(value)
    if when is None:
        return None
    return max(0.0, (when - _aware(now)).total_seconds())


def freshness_seconds(headers: httpx.Headers, now: datetime) -> float | None:
    """How long the response stays fresh by its own headers; None when they do not say.

    The larger of Cache-Control max-age (less Age) and Expires - now: a poller wants to
    know the longest it may wait. ``no-store`` or a bare ``no-cache`` give 0.0 ("check each
    time"), leaving the poll interval to the caller's minimum. An invalid Expires (such as
    "0") means already expired, as RFC 9111 says. s-maxage is for shared caches: ignored.
    """
    directives: dict[str, str | None] = {}
    for item in headers.get_list("cache-control", split_commas=True):
        name, sep, value = item.partition("=")
        directives.setdefault(name.strip().lower(), value.strip() if sep else None)
    # no-cache="field" concerns only that field, not the response.
    if "no-store" in directives or ("no-cache" in directives and directives["no-cache"] is None):
        return 0.0
    candidates: list[float] = []
    max_age = _non_negative_int(directives.get("max-age"))
    if max_age is not None:
        age = _non_negative_int(headers.get("age")) or 0
        candidates.append(float(max(0, max_age - age)))
    expires = headers.get("expires")
    if expires is not None:
        when = _http_date(expires)
        candidates.append(0.0 if when is None else max(0.0, (when - _aware(now)).total_seconds()))
    return max(candidates) if candidates else None
