"""What comes over the wire: connections only to vetted addresses (SSRF), checked after
resolution, and bodies read within a size limit, their Content-Encoding undone a bounded
piece at a time, so that a decompression bomb never gets far past the limit (httpx's own
decoders inflate a whole network read at once)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import zlib
from collections.abc import Iterable, Iterator

import brotli
import httpcore
import httpx

from .addresses import AllowList, IPAddress, check_addresses
from .errors import BlockedAddressError, FetchError, ResponseTooLargeError

__all__ = ["SafeTransport", "read_body"]


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
        check_addresses(host, port, addresses, self._allow)
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


# --- bodies, bounded --------------------------------------------------------------------

_PIECE = 64 * 1024


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


def _through(layer: _ZlibLayer | _BrotliLayer, pieces: Iterable[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from layer.feed(piece)


class _BodyDecoder:
    """Undoes Content-Encoding lazily, one bounded piece at a time."""

    def __init__(self, content_encoding: str | None) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
        self._layers: list[_ZlibLayer | _BrotliLayer] = []
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


async def read_body(response: httpx.Response, limit: int) -> bytes:
    """The body, decompressed; ResponseTooLargeError past ``limit`` bytes, sent or inflated."""
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
