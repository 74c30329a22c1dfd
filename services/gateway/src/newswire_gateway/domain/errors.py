"""Why the gateway's rules refuse a request; the HTTP edge turns each into a problem document."""

from __future__ import annotations

__all__ = ["Invalid", "NotFound", "RateLimited", "Refused"]


class Refused(Exception):
    """A request the rules refuse; the message tells the client why."""


class NotFound(Refused):
    """What the request names does not exist (or not yet); ``what`` names its kind."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(detail)
        self.what = what


class Invalid(Refused):
    """The request asks for something that cannot be answered as asked."""


class RateLimited(Refused):
    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
