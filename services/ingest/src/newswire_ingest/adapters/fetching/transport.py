"""httpx's transport, vetting every address it connects to after resolving it (SSRF)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable

import httpcore
import httpx

from .addresses import AllowList, IPAddress, check_addresses
from .errors import BlockedAddressError

__all__ = ["SafeTransport"]


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
