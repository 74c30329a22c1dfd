"""A polite, safe HTTP fetcher for feeds and article pages.

Polite: one User-Agent, conditional GETs, compression, a few requests at once per host.
Safe: every limit Miniflux has (connect and total time, body size after decompression,
redirects), and no requests to loopback, private or otherwise internal addresses (SSRF),
checked after DNS resolution on every connection so that DNS rebinding cannot get round it.
"""

from __future__ import annotations

import asyncio
import codecs
import ipaddress
import re
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Protocol, Self

import brotli
import charset_normalizer
import httpcore
import httpx

from newswire_ingest.config import IngestSettings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ACCEPT_ENCODING = "gzip, deflate, br"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Bodies are inflated at most this much at a time, so that a decompression bomb never
# gets far past fetch_max_bytes (httpx's own decoders inflate a whole network read at once).
_PIECE = 64 * 1024
_SNIFF_BYTES = 4096


# --- errors -------------------------------------------------------------------------------


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
    """The body (as sent or decompressed) is larger than ``fetch_max_bytes``."""

    def __init__(self, reason: str, *, url: str = "") -> None:
        super().__init__(reason, url=url, permanent=True)


# --- result -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """A successful (2xx) or not-modified (304) response, body read and decompressed."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes
    elapsed: float

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str | None:
        return _split_content_type(self.headers.get("content-type"))[0]

    def text(self) -> str:
        return decode_text(self.content, self.headers.get("content-type"))


# --- addresses ----------------------------------------------------------------------------

# IANA's special-purpose IPv4 registry, minus the few blocks that are globally reachable.
# Written out rather than taken from ipaddress.is_private/is_global, whose tables differ
# between the Python versions this project supports.
_NON_PUBLIC_V4 = tuple(
    (ipaddress.IPv4Network(network), why)
    for network, why in (
        ("0.0.0.0/8", "an unspecified ('this network') address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol assignment address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a 6to4 relay address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),  # 255.255.255.255 included
    )
)
_SPECIAL_V6 = tuple(
    (ipaddress.IPv6Network(network), why)
    for network, why in (
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("fc00::/7", "a unique local (private) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)
# Beyond those, only global unicast (2000::/3) can be public at all, and not all of it.
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_NON_PUBLIC_V6 = tuple(
    (ipaddress.IPv6Network(network), why)
    for network, why in (
        ("2001::/23", "an IETF protocol assignment address (Teredo, ORCHID, ...)"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
    )
)
_NAT64_V6 = ipaddress.IPv6Network("64:ff9b::/96")


def _listed(
    ip: IPAddress, table: Iterable[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]
) -> str | None:
    return next((why for network, why in table if ip in network), None)


def _why_not_public(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be fetched from ("a loopback address", ...), None when it may."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _listed(ip, _NON_PUBLIC_V4)
    # Addresses that carry an IPv4 address reach that address: judge it instead.
    embedded = ip.ipv4_mapped or ip.sixtofour
    if embedded is None and ip in _NAT64_V6:
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if embedded is not None:
        why = _listed(embedded, _NON_PUBLIC_V4)
        return f"{why} ({embedded} embedded in IPv6)" if why else None
    if why := _listed(ip, _SPECIAL_V6):
        return why
    if ip not in _GLOBAL_UNICAST_V6:
        return "a reserved address"
    return _listed(ip, _NON_PUBLIC_V6)


def is_public_address(ip: IPAddress) -> bool:
    """Whether ``ip`` is an ordinary Internet address that the fetcher may connect to."""
    return _why_not_public(ip) is None


def _normal_host(host: str) -> str:
    host = host.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))  # one spelling per IPv6 address
    except ValueError:
        return host


class AllowList:
    """``fetch_allow_hosts``: "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address."""

    def __init__(self, entries: Iterable[str]) -> None:
        self._hosts: set[str] = set()
        self._host_ports: set[tuple[str, int]] = set()
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            host, port = entry, None
            if entry.startswith("["):
                host, _, rest = entry[1:].partition("]")
                port = rest[1:] if rest.startswith(":") else None
            elif entry.count(":") == 1:
                host, port = entry.split(":")
            if port is None:
                self._hosts.add(_normal_host(host))
            elif port.isdigit():
                self._host_ports.add((_normal_host(host), int(port)))
            else:
                raise ValueError(f"fetch_allow_hosts: bad entry {raw!r} (host or host:port)")

    def allows(self, host: str, port: int) -> bool:
        host = _normal_host(host)
        return host in self._hosts or (host, port) in self._host_ports


# --- transport: the SSRF check at connect time --------------------------------------------


class _PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, refuses non-public addresses, connects to the vetted IP.

    Connecting to the IP literal we checked (rather than letting the socket layer resolve
    the name again) is what defeats DNS rebinding. TLS is unaffected: httpcore's
    AsyncHTTPConnection passes the URL's host to ``start_tls`` as ``server_hostname`` (SNI
    and certificate check), and the Host header comes from the request URL, not from here.
    """

    def __init__(self, allow: AllowList) -> None:
        self._allow = allow
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port, timeout)
        if not self._allow.allows(host, port):
            for ip in addresses:
                why = _why_not_public(ip)
                if why is None:
                    continue
                if _normal_host(host) == str(ip):
                    raise BlockedAddressError(f"refused: {ip} is {why}")
                raise BlockedAddressError(f"refused: {host} resolves to {ip}, {why}")
        last_error: Exception = httpcore.ConnectError(f"cannot connect to {host}")
        for ip in addresses:
            try:
                return await self._backend.connect_tcp(
                    str(ip),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc  # try the host's next address, as browsers do
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError(f"refused: Unix socket {path}")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


async def _resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
    """The host's addresses in resolver order (an IP literal resolves to itself)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]))
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}: no addresses")
    return addresses


_DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class SafeTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, connecting only to public addresses or allow-listed hosts."""

    def __init__(
        self,
        allow_hosts: Iterable[str] = (),
        *,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits = _DEFAULT_LIMITS,
    ) -> None:
        # trust_env=False: configuration comes from settings, and a proxy taken from the
        # environment would make the address check vet the proxy instead of the target.
        super().__init__(verify=verify, limits=limits, trust_env=False)
        # httpx has no parameter for httpcore's network backend, so the (still unused, hence
        # nothing to close) pool it built is replaced by the same pool with our backend. A
        # change in httpx's internals shows here or in test_transport_checks_addresses_itself.
        if not isinstance(self._pool, httpcore.AsyncConnectionPool):
            raise TypeError("SafeTransport expects httpx to build an httpcore connection pool")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PublicOnlyBackend(AllowList(allow_hosts)),
        )


# --- body decoding, bounded ---------------------------------------------------------------


class _Layer(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...
    def finish(self) -> Iterator[bytes]: ...


class _ZlibLayer:
    """gzip or deflate, inflated at most _PIECE bytes per step."""

    def __init__(self, *, gzip: bool) -> None:
        self._gzip = gzip
        self._started = False
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        # Anything after the end of the stream is ignored, as httpx does.
        while not self._zlib.eof:
            try:
                out = self._zlib.decompress(data, _PIECE)
            except zlib.error:
                if self._gzip or self._started:
                    raise
                # "deflate" means zlib-wrapped, but some servers send raw deflate.
                self._started = True
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self._started = True
            data = self._zlib.unconsumed_tail
            if out:
                yield out
            # A full piece may leave output pending inside zlib even with no input left.
            if not data and len(out) < _PIECE:
                return

    def finish(self) -> Iterator[bytes]:
        out = self._zlib.flush()
        if out:
            yield out


class _BrotliLayer:
    def __init__(self) -> None:
        self._brotli = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._brotli.is_finished():
            return
        out = self._brotli.process(data, output_buffer_limit=_PIECE)
        while out:
            yield out
            if self._brotli.is_finished():
                return
            out = self._brotli.process(b"", output_buffer_limit=_PIECE)

    def finish(self) -> Iterator[bytes]:
        return iter(())


def _through(layer: _Layer, pieces: Iterable[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from layer.feed(piece)


class _BodyDecoder:
    """Undoes Content-Encoding lazily, one bounded piece at a time."""

    def __init__(self, content_encoding: str | None) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
        self._layers: list[_Layer] = []
        for coding in reversed(codings):  # the last encoding applied is undone first
            if coding in ("gzip", "x-gzip"):
                self._layers.append(_ZlibLayer(gzip=True))
            elif coding == "deflate":
                self._layers.append(_ZlibLayer(gzip=False))
            elif coding == "br":
                self._layers.append(_BrotliLayer())
            elif coding != "identity":
                raise FetchError(f"unsupported Content-Encoding: {coding}", permanent=True)

    def feed(self, data: bytes) -> Iterator[bytes]:
        return self._run(0, iter((data,)))

    def finish(self) -> Iterator[bytes]:
        for index, layer in enumerate(self._layers):
            yield from self._run(index + 1, layer.finish())

    def _run(self, start: int, pieces: Iterator[bytes]) -> Iterator[bytes]:
        for layer in self._layers[start:]:
            pieces = _through(layer, pieces)
        return pieces


# --- the fetcher --------------------------------------------------------------------------


@dataclass
class _Slot:
    semaphore: asyncio.Semaphore
    users: int = 0


class _HostSlots:
    """At most ``size`` requests at once per host; a host's semaphore lives while in use."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._slots: dict[str, _Slot] = {}

    @asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        slot = self._slots.get(host)
        if slot is None:
            slot = self._slots[host] = _Slot(asyncio.Semaphore(self._size))
        slot.users += 1
        try:
            async with slot.semaphore:
                yield
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[host]  # a feed reader meets many hosts; keep only busy ones


_TEXT_TYPES = frozenset(
    {
        "application/xml",
        "application/json",
        "application/javascript",
        # S3 and badly configured servers label feeds so; decode_text copes.
        "application/octet-stream",
        "binary/octet-stream",
    }
)


def _is_text(media_type: str | None) -> bool:
    return (
        media_type is None
        or media_type.startswith("text/")
        or media_type.endswith(("+xml", "+json"))
        or media_type in _TEXT_TYPES
    )


class Fetcher:
    """Fetches feeds and pages with the limits in IngestSettings; share one per process."""

    def __init__(
        self, settings: IngestSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        """``transport`` replaces the SafeTransport (tests); it then owns the address checks,
        except for IP-literal URLs, which are always checked here."""
        self._settings = settings
        self._allow = AllowList(settings.fetch_allow_hosts)
        self._slots = _HostSlots(settings.fetch_per_host_concurrency)
        self._client = httpx.AsyncClient(
            transport=transport or SafeTransport(settings.fetch_allow_hosts),
            follow_redirects=False,  # each hop is checked and counted here
            timeout=httpx.Timeout(
                settings.fetch_timeout_seconds, connect=settings.fetch_connect_timeout_seconds
            ),
            trust_env=False,
            # Like Miniflux, no cookies: nothing set by one site is sent on a later fetch.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "*/*",
    ) -> Fetched:
        """GET ``url``, following redirects; raises FetchError for anything but 2xx or 304.

        The time limit counts from when the first request may start (waiting for a free
        per-host slot for the first hop is not counted) to the end of the body.
        """
        settings = self._settings
        headers = {
            "User-Agent": settings.fetch_user_agent,
            "Accept": accept,
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        # Sent on every hop: the validators belong to the final URL of the previous fetch.
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified

        started = time.monotonic()
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        current = self._checked_url(url)
        seen = {_without_fragment(current)}
        while True:
            async with self._slots.hold(current.host):
                if deadline is None:
                    deadline = loop.time() + settings.fetch_timeout_seconds
                try:
                    async with asyncio.timeout_at(deadline):
                        outcome = await self._exchange(current, headers)
                except TimeoutError:
                    raise FetchError(
                        f"timed out after {settings.fetch_timeout_seconds:g} s", url=str(current)
                    ) from None
            if isinstance(outcome, Fetched):
                return replace(outcome, elapsed=time.monotonic() - started)
            if len(seen) > settings.fetch_max_redirects:
                raise FetchError(
                    f"too many redirects (more than {settings.fetch_max_redirects})",
                    url=str(current),
                    permanent=True,
                )
            if _without_fragment(outcome) in seen:
                raise FetchError(f"redirect loop at {outcome}", url=str(current), permanent=True)
            current = self._checked_url(outcome)
            seen.add(_without_fragment(current))

    def _checked_url(self, url: str | httpx.URL) -> httpx.URL:
        """The URL parsed, if it is http(s) and not an IP literal that may not be fetched."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise FetchError(f"invalid URL: {exc}", url=str(url), permanent=True) from None
        if parsed.scheme not in ("http", "https"):
            scheme = parsed.scheme or "none"
            raise FetchError(f"unsupported scheme: {scheme}", url=str(url), permanent=True)
        if not parsed.host:
            raise FetchError("invalid URL: no host", url=str(url), permanent=True)
        try:
            ip = ipaddress.ip_address(parsed.host)
        except ValueError:
            return parsed  # a name: checked after resolution, by the transport
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        why = _why_not_public(ip)
        if why and not self._allow.allows(parsed.host, port):
            raise BlockedAddressError(f"refused: {ip} is {why}", url=str(parsed))
        return parsed

    async def _exchange(self, url: httpx.URL, headers: dict[str, str]) -> Fetched | httpx.URL:
        """One request: the result, or where a redirect points."""
        request = self._client.build_request("GET", url, headers=headers)
        try:
            response = await self._client.send(request, stream=True)
            try:
                return await self._handle(response)
            finally:
                await response.aclose()
        except FetchError as exc:
            exc.url = exc.url or str(url)
            raise
        except httpx.ConnectTimeout:
            raise FetchError(
                f"timed out connecting after {self._settings.fetch_connect_timeout_seconds:g} s",
                url=str(url),
            ) from None
        except httpx.TimeoutException:
            raise FetchError(
                f"timed out after {self._settings.fetch_timeout_seconds:g} s", url=str(url)
            ) from None
        except httpx.ConnectError as exc:
            raise FetchError(
                f"cannot connect: {exc or 'connection failed'}", url=str(url)
            ) from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}", url=str(url)) from None

    async def _handle(self, response: httpx.Response) -> Fetched | httpx.URL:
        status = response.status_code
        if status in _REDIRECTS:
            location = response.headers.get("location")
            if not location:
                raise _status_error(response, extra="without Location", permanent=True)
            try:
                return response.url.join(location.strip())
            except httpx.InvalidURL as exc:
                raise FetchError(f"bad redirect Location: {exc}", permanent=True) from None
        if status == 304 or 200 <= status < 300:
            content = b"" if status == 304 else await self._read_body(response)
            return Fetched(str(response.url), status, response.headers, content, 0.0)
        raise _status_error(response)

    async def _read_body(self, response: httpx.Response) -> bytes:
        media_type = _split_content_type(response.headers.get("content-type"))[0]
        if not _is_text(media_type):
            raise FetchError(f"not text: {media_type}", status=response.status_code, permanent=True)
        limit = self._settings.fetch_max_bytes
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLargeError(
                f"too large: Content-Length {declared} bytes, the limit is {limit}"
            )
        decoder = _BodyDecoder(response.headers.get("content-encoding"))
        body = bytearray()

        def add(pieces: Iterator[bytes]) -> None:
            for piece in pieces:
                body.extend(piece)
                if len(body) > limit:
                    raise ResponseTooLargeError(
                        f"too large: more than {limit} bytes after decompression"
                    )

        try:
            async for raw in response.aiter_raw():
                if response.num_bytes_downloaded > limit:
                    raise ResponseTooLargeError(f"too large: more than {limit} bytes received")
                add(decoder.feed(raw))
            add(decoder.finish())
        except (zlib.error, brotli.error) as exc:
            encoding = response.headers.get("content-encoding")
            raise FetchError(f"cannot decompress {encoding} body: {exc}") from None
        return bytes(body)


def _without_fragment(url: httpx.URL) -> str:
    return str(url.copy_with(fragment=None))


def _status_error(
    response: httpx.Response, *, extra: str = "", permanent: bool | None = None
) -> FetchError:
    status = response.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = response.reason_phrase
    reason = " ".join(part for part in (f"HTTP {status}", phrase, extra) if part)
    if permanent is None:
        # Server errors, timeouts and rate limits pass; other client errors will not.
        permanent = status < 500 and status not in (408, 429)
    return FetchError(
        reason,
        status=status,
        retry_after=retry_after_seconds(response.headers.get("retry-after"), datetime.now(UTC)),
        permanent=permanent,
    )


# --- header values ------------------------------------------------------------------------


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


# --- text ---------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
# WHATWG labels Python does not know.
_EXTRA_LABELS = {
    "windows-31j": "cp932",
    "x-sjis": "cp932",
    "x-gbk": "gb18030",
    "x-mac-roman": "mac-roman",
    "iso-8859-8-i": "iso8859-8",
    "windows-874": "cp874",
    "unicode-1-1-utf-8": "utf-8",
}
# The WHATWG Encoding Standard decodes these labels with a superset, which is what pages
# labelled so actually contain (e.g. curly quotes, 0x93/0x94, in "iso-8859-1" pages).
# Keys are Python's canonical codec names.
_WHATWG_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "big5": "big5hkscs",
    "utf-16": "utf-16-le",
}
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([a-z0-9_.:()+-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([a-z0-9_.:-]+)["']""", re.I)


def _split_content_type(value: str | None) -> tuple[str | None, str | None]:
    """(media type lower-cased, charset) of a Content-Type value."""
    if not value:
        return None, None
    media, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, param_value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = param_value.strip().strip("\"'") or None
    return media.strip().lower() or None, charset


def _codec(label: str | None) -> str | None:
    """The Python codec for an encoding label, per WHATWG where it differs; None if unusable."""
    if not label:
        return None
    label = label.strip().lower()
    try:
        name = codecs.lookup(_EXTRA_LABELS.get(label, label)).name
        b"a".decode(name, errors="replace")  # rejects non-text codecs such as base64
    except LookupError:
        return None
    if name == "utf-7":  # not decoded by browsers: it smuggles markup past filters
        return None
    return _WHATWG_SUPERSETS.get(name, name)


def _declared_in_document(content: bytes, media_type: str | None) -> str | None:
    head = content[:_SNIFF_BYTES]
    is_xml = media_type is not None and (media_type.endswith(("/xml", "+xml")))
    match = None
    if not is_xml:  # a feed's CDATA may hold an HTML <meta> of some other page
        match = _META_CHARSET.search(head)
    match = match or _XML_ENCODING.search(head)
    codec = _codec(match.group(1).decode("ascii")) if match else None
    # Bytes that matched an ASCII pattern are not UTF-16, whatever they say (WHATWG).
    if codec and codec.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return codec


def _guess(content: bytes) -> str | None:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"  # valid UTF-8 with non-ASCII bytes is practically never anything else
    best = charset_normalizer.from_bytes(content).best()
    return _codec(best.encoding) if best else None


def decode_text(content: bytes, content_type: str | None) -> str:
    """Bytes to text, the encoding taken from, in order: a BOM, the Content-Type charset,
    an HTML <meta> or XML declaration in the first 4 KiB, detection; else UTF-8.

    Undecodable bytes become U+FFFD rather than failing.
    """
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return content[len(bom) :].decode(encoding, errors="replace")
    media_type, charset = _split_content_type(content_type)
    encoding = (
        _codec(charset) or _declared_in_document(content, media_type) or _guess(content) or "utf-8"
    )
    return content.decode(encoding, errors="replace")
