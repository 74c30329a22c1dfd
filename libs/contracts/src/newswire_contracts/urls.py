"""Canonical article URLs and the article id derived from them.

Every service derives ids through these two functions, so the same article submitted
twice, fetched from a feed, or re-posted with tracking parameters gets one id.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = ["InvalidURLError", "article_id", "canonicalize_url", "feed_id", "is_tracking_parameter"]

MAX_URL_LENGTH = 2048

# Parameters that identify a campaign, a click or a share, never the article. The list
# follows Miniflux's and the ClearURLs rules for news sites; prefixes end with "_".
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "mtm_", "oly_", "hsa_", "vero_", "__hs", "_hs")
_TRACKING_NAMES = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "igsh",
        "mkt_tok",
        "_ga",
        "_gl",
        "_openstat",
        "ncid",
        "cmpid",
        "ocid",
        "sr_share",
        "ref_src",
        "ref_url",
        "smid",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "__twitter_impression",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "s_cid",
        "wt_mc",
        "wt.mc_id",
        "spm",
        "share",
        "xtor",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 unreserved characters never need escaping; "%41" and "A" are the same URL.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# What may stay literal in a path or a query component once escapes are normalised.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = ":@!$'()*,/?-._~"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-F]{2})")


class InvalidURLError(ValueError):
    """The text is not an absolute http(s) URL that can name an article."""


def is_tracking_parameter(name: str) -> bool:
    """Whether a query parameter only tracks the reader (``utm_source``, ``fbclid``, ...)."""
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


def canonicalize_url(url: str) -> str:
    """Return the canonical form of an article URL.

    Lower-cases scheme and host (IDNA-encoded), drops credentials, default ports,
    fragments, tracking parameters and a trailing slash, resolves dot segments, sorts
    the remaining query parameters and normalises percent-encoding (unreserved
    characters decoded, other escapes upper-cased, non-ASCII encoded as UTF-8).
    Raises InvalidURLError for anything that is not an absolute http(s) URL.
    """
    text = url.strip()
    if not text or len(text) > MAX_URL_LENGTH:
        raise InvalidURLError(f"URL must be 1 to {MAX_URL_LENGTH} characters long")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise InvalidURLError("URL contains control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidURLError(f"URL cannot be parsed: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidURLError(f"URL scheme must be http or https, not {parts.scheme or 'none'!r}")
    host = _canonical_host(parts.hostname or "")
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit(
        (scheme, netloc, _canonical_path(parts.path), _canonical_query(parts.query), "")
    )


def article_id(canonical_url: str) -> str:
    """The article id: 32 hex digits of SHA-256 over the canonical URL.

    Pass a URL that went through canonicalize_url; the id is only as stable as its input.
    """
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]


def feed_id(canonical_url: str) -> str:
    """The feed id: like an article id, over the canonical feed URL in its own namespace."""
    return hashlib.sha256(f"feed:{canonical_url}".encode()).hexdigest()[:32]


def _canonical_host(hostname: str) -> str:
    host = hostname.rstrip(".").lower()
    if not host:
        raise InvalidURLError("URL has no host")
    if ":" in host:  # an IPv6 literal; urlsplit has already removed the brackets
        return f"[{host}]"
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidURLError(f"URL host {hostname!r} is not a valid domain name") from exc


def _decode_unreserved(component: str) -> str:
    def unescape(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    return _PERCENT_ESCAPE.sub(unescape, component)


def _canonical_path(path: str) -> str:
    if not path:
        return "/"
    # Decode "%2E" and friends first, so that encoded dot segments resolve too and a
    # second pass finds nothing left to change.
    decoded = _decode_unreserved(path)
    # Resolve "." and ".." the way a browser does, keeping a leading slash.
    resolved = posixpath.normpath(decoded)
    if resolved.startswith("//"):
        resolved = "/" + resolved.lstrip("/")
    resolved = quote(_STRAY_PERCENT.sub("%25", resolved), safe=_PATH_SAFE)
    if resolved != "/":
        resolved = resolved.rstrip("/") or "/"
    return resolved


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    # parse_qsl decodes escapes and "+"; urlencode re-escapes one canonical way.
    pairs = [
        (name, value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if not is_tracking_parameter(name)
    ]
    pairs.sort()
    return urlencode(pairs, quote_via=quote, safe=_QUERY_SAFE)
