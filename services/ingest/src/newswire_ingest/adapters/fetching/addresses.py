"""Which addresses may be fetched from: public ones, and hosts the operator allow-lists (SSRF)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from .errors import BlockedAddressError

__all__ = ["AllowList", "IPAddress", "check_addresses", "is_public_address"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_Table = tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]


def _table(*rows: tuple[str, str]) -> _Table:
    return tuple((ipaddress.ip_network(network), why) for network, why in rows)


# IANA's special-purpose IPv4 registry, minus the few blocks that are globally reachable.
# Written out rather than taken from ipaddress.is_private/is_global, whose tables differ
# between the Python versions this project supports.
_NON_PUBLIC_V4 = _table(
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
_SPECIAL_V6 = _table(
    ("::/128", "an unspecified address"),
    ("::1/128", "a loopback address"),
    ("fc00::/7", "a unique local (private) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
)
# Beyond those, only global unicast (2000::/3) can be public at all, and not all of it.
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_NON_PUBLIC_V6 = _table(
    ("2001::/23", "an IETF protocol assignment address (Teredo, ORCHID, ...)"),
    ("2001:db8::/32", "a documentation address"),
    ("3fff::/20", "a documentation address"),
)
_NAT64_V6 = ipaddress.IPv6Network("64:ff9b::/96")


def _listed(ip: IPAddress, table: _Table) -> str | None:
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
    """``fetch_allow_hosts``: "host", "host:port", "[v6]", "[v6]:port", a bare IPv6 address,
    or a network in CIDR notation ("10.1.0.0/16", "fd00::/8"), which allows every address in
    it (after DNS resolution, so a name resolving into it is allowed too)."""

    def __init__(self, entries: Iterable[str]) -> None:
        self._hosts: set[str] = set()
        self._host_ports: set[tuple[str, int]] = set()
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            if "/" in entry:
                try:
                    self._networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                except ValueError:
                    raise ValueError(
                        f"fetch_allow_hosts: bad network {raw!r} (e.g. 10.1.0.0/16)"
                    ) from None
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
        if host in self._hosts or (host, port) in self._host_ports:
            return True
        try:
            return self.allows_address(ipaddress.ip_address(host))
        except ValueError:
            return False

    def allows_address(self, ip: IPAddress) -> bool:
        """Whether ``ip`` is in an allow-listed network."""
        return any(ip in network for network in self._networks)


def check_addresses(
    host: str, port: int, addresses: Iterable[IPAddress], allow: AllowList, *, url: str = ""
) -> None:
    """Raise BlockedAddressError unless ``host`` is allow-listed or all its addresses are public."""
    if allow.allows(host, port):
        return
    for ip in addresses:
        if allow.allows_address(ip):
            continue
        if why := _why_not_public(ip):
            if _normal_host(host) == str(ip):
                raise BlockedAddressError(f"refused: {ip} is {why}", url=url)
            raise BlockedAddressError(f"refused: {host} resolves to {ip}, {why}", url=url)
