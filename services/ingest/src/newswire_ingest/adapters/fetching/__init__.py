"""A polite, safe HTTP fetcher for feeds and article pages.

Polite: one User-Agent, conditional GETs, compression, a few requests at once per host.
Safe: every limit Miniflux has (connect and total time, body size after decompression,
redirects), and no requests to loopback, private or otherwise internal addresses (SSRF),
checked after DNS resolution on every connection so that DNS rebinding cannot get round it.
"""

from .addresses import AllowList, is_public_address
from .cache_headers import freshness_seconds, retry_after_seconds
from .charset import decode_text
from .errors import BlockedAddressError, FetchError, ResponseTooLargeError
from .fetcher import Fetched, Fetcher, FetchOptions
from .pages import fetch_page
from .transport import SafeTransport

__all__ = [
    "AllowList",
    "BlockedAddressError",
    "FetchError",
    "FetchOptions",
    "Fetched",
    "Fetcher",
    "ResponseTooLargeError",
    "SafeTransport",
    "decode_text",
    "fetch_page",
    "freshness_seconds",
    "is_public_address",
    "retry_after_seconds",
]
