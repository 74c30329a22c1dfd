"""A polite, safe HTTP fetcher for feeds and article pages.

Polite: one User-Agent, conditional GETs, compression, a few requests at once per host.
Safe: every limit Miniflux has (connect and total time, body size after decompression,
redirects), and no requests to loopback, private or otherwise internal addresses (SSRF),
checked after DNS resolution on every connection so that DNS rebinding cannot get round it.
"""

from .cache_headers import freshness_seconds
from .errors import FetchError
from .fetcher import Fetched, Fetcher, FetchOptions
from .pages import fetch_page

__all__ = ["FetchError", "FetchOptions", "Fetched", "Fetcher", "fetch_page", "freshness_seconds"]
