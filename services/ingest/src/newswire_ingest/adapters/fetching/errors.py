"""Why a fetch failed, and whether trying again can help."""

from __future__ import annotations

__all__ = ["BlockedAddressError", "FetchError", "ResponseTooLargeError"]


class FetchError(Exception):
    """A fetch failed; ``reason`` says why in words, ``permanent`` whether retrying can help."""

    def __init__(
        self,
        reason: str,
        *,
        url: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.url = url
        self.status = status
        self.retry_after = retry_after
        self.permanent = permanent

    def __str__(self) -> str:
        return f"{self.reason} ({self.url})" if self.url else self.reason


class BlockedAddressError(FetchError):
    """Refused: the URL's host is, or resolves to, an address that is not public."""

    def __init__(self, reason: str, *, url: str = "") -> None:
        super().__init__(reason, url=url, permanent=True)


class ResponseTooLargeError(FetchError):
    """The body (as sent or decompressed) is larger than the fetcher's ``max_bytes``."""

    def __init__(self, reason: str, *, url: str = "") -> None:
        super().__init__(reason, url=url, permanent=True)
