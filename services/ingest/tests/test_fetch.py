"""The fetcher against a real HTTP server in this process (127.0.0.1, allow-listed)."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import brotli
import httpx
import pytest
from newswire_ingest.adapters.fetching import Fetcher, FetchError, FetchOptions
from newswire_ingest.adapters.fetching.addresses import AllowList, is_public_address
from newswire_ingest.adapters.fetching.cache_headers import freshness_seconds, retry_after_seconds
from newswire_ingest.adapters.fetching.charset import decode_text
from newswire_ingest.adapters.fetching.errors import BlockedAddressError, ResponseTooLargeError
from newswire_ingest.adapters.fetching.transport import SafeTransport
from newswire_ingest.config import IngestSettings
from newswire_ingest.main import fetch_options

from tests import httpserver

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
USER_AGENT = "NewswireTest/1.0 (+https://example.org/test)"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with httpserver.TestServer() as running:
        yield running


def settings_for(server: Any, **overrides: Any) -> FetchOptions:
    """Every fetch setting a test depends on, explicitly (the environment may set others)."""
    values: dict[str, Any] = {
        "fetch_allow_hosts": [server.host],
        "fetch_user_agent": USER_AGENT,
        "fetch_connect_timeout_seconds": 2.0,
        "fetch_timeout_seconds": 5.0,
        "fetch_max_bytes": 1 * MiB,
        "fetch_max_redirects": 5,
        "fetch_per_host_concurrency": 2,
    }
    values.update(overrides)
    return fetch_options(IngestSettings(**values))


@pytest.fixture
async def fetcher(server: Any) -> AsyncIterator[Fetcher]:
    async with Fetcher(settings_for(server)) as running:
        yield running


# --- addresses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("172.31.255.255", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("127.0.0.2", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104
        ("0.1.2.3", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("240.0.0.1", False),
        ("198.18.0.1", False),
        ("192.0.2.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("2002:c0a8:0101::1", False),  # 6to4 of 192.168.1.1
        ("2001:db8::1", False),
        ("2001::1", False),  # Teredo
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_allow_list_entries() -> None:
    allow = AllowList(["feeds.example", "127.0.0.1:8080", "[::1]:9000", "LocalHost.", "fd00::1"])
    assert allow.allows("feeds.example", 443)
    assert allow.allows("127.0.0.1", 8080)
    assert not allow.allows("127.0.0.1", 8081)
    assert allow.allows("::1", 9000)
    assert not allow.allows("::1", 9001)
    assert allow.allows("localhost", 1)
    assert allow.allows("fd00:0::1", 80)
    with pytest.raises(ValueError, match="bad entry"):
        AllowList(["host:port"])


def test_allow_list_networks() -> None:
    allow = AllowList(["127.1.0.0/16", "[fd00::/8]"])
    assert allow.allows("127.1.3.7", 80)
    assert allow.allows_address(ipaddress.ip_address("127.1.255.254"))
    assert not allow.allows("127.0.0.1", 80)
    assert not allow.allows("127.2.0.1", 80)
    assert allow.allows("fd12::1", 443)
    assert not allow.allows("news.example", 80), "a name is judged by its addresses"
    with pytest.raises(ValueError, match="bad network"):
        AllowList(["127.1.0.0/33"])


async def test_loopback_is_refused_unless_allowed(server: Any) -> None:
    @server.route("/private")
    def _(request: Any) -> None:
        request.reply(200, b"secret", {"Content-Type": "text/plain"})

    async with Fetcher(settings_for(server, fetch_allow_hosts=[])) as fetcher:
        with pytest.raises(BlockedAddressError) as refused:
            await fetcher.get(server.url("/private"))
    assert refused.value.reason == "refused: 127.0.0.1 is a loopback address"
    assert refused.value.permanent
    assert refused.value.url == server.url("/private")
    assert server.requests_to("/private") == []

    # Allowed for this port only.
    other_port = f"127.0.0.1:{server.port + 1}"
    async with Fetcher(settings_for(server, fetch_allow_hosts=[other_port])) as fetcher:
        with pytest.raises(BlockedAddressError):
            await fetcher.get(server.url("/private"))
    async with Fetcher(settings_for(server, fetch_allow_hosts=[server.host])) as fetcher:
        assert (await fetcher.get(server.url("/private"))).content == b"secret"
    # Or by the network it is in; a network it is not in changes nothing.
    async with Fetcher(settings_for(server, fetch_allow_hosts=["127.0.0.0/30"])) as fetcher:
        assert (await fetcher.get(server.url("/private"))).content == b"secret"
    async with Fetcher(settings_for(server, fetch_allow_hosts=["127.1.0.0/16"])) as fetcher:
        with pytest.raises(BlockedAddressError):
            await fetcher.get(server.url("/private"))


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]:{port}/private",
        "http://[::ffff:127.0.0.1]:{port}/private",
        "http://127.0.0.2:{port}/private",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
    ],
)
async def test_non_public_ip_literals_are_refused(fetcher: Fetcher, server: Any, url: str) -> None:
    with pytest.raises(BlockedAddressError, match=r"refused: .* is a"):
        await fetcher.get(url.format(port=server.port))


async def test_ip_literals_are_checked_before_connecting_whatever_the_transport(
    server: Any,
) -> None:
    """A transport passed in owns the connect-time checks; IP-literal URLs are still refused."""
    server.route("/literal")(lambda request: request.reply(200, b"secret"))
    settings = settings_for(server, fetch_allow_hosts=[])
    async with Fetcher(settings, transport=httpx.AsyncHTTPTransport()) as fetcher:
        with pytest.raises(BlockedAddressError, match="loopback"):
            await fetcher.get(server.url("/literal"))
    assert server.requests_to("/literal") == []


async def test_a_name_resolving_to_loopback_is_refused_unless_allowed(server: Any) -> None:
    """Checked after DNS resolution, in the transport: the URL itself shows no address."""

    @server.route("/by-name")
    def _(request: Any) -> None:
        request.reply(200, b"hello", {"Content-Type": "text/plain"})

    url = server.url("/by-name", host="localhost")
    async with Fetcher(settings_for(server)) as fetcher:  # 127.0.0.1:<port> allowed, not the name
        with pytest.raises(BlockedAddressError) as refused:
            await fetcher.get(url)
    assert refused.value.reason.startswith("refused: localhost resolves to ")
    assert "loopback" in refused.value.reason
    assert refused.value.url == url
    assert server.requests_to("/by-name") == []

    allowed = settings_for(server, fetch_allow_hosts=[f"localhost:{server.port}"])
    async with Fetcher(allowed) as fetcher:
        fetched = await fetcher.get(url)
    assert fetched.content == b"hello"
    # A network allows the names that resolve into it, checked after resolution.
    async with Fetcher(settings_for(server, fetch_allow_hosts=["127.0.0.0/8", "::1/128"])) as f:
        assert (await f.get(url)).content == b"hello"
    # Connected to the vetted IP, but the Host header still names the host.
    assert server.requests_to("/by-name")[-1].headers["host"] == f"localhost:{server.port}"


async def test_transport_checks_addresses_itself(server: Any) -> None:
    """SafeTransport swaps httpx's connection pool for one with the vetting backend."""
    async with httpx.AsyncClient(transport=SafeTransport()) as client:
        with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1 is a loopback address"):
            await client.get(server.url("/"))
        with pytest.raises(BlockedAddressError, match="localhost resolves to"):
            await client.get(server.url("/", host="localhost"))
    async with httpx.AsyncClient(transport=SafeTransport([server.host])) as client:
        assert (await client.get(server.url("/nothing-here"))).status_code == 404


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/after",
        "http://[::1]:{port}/after",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:{port}/after",  # a name: refused at connect time
    ],
)
async def test_each_redirect_hop_is_checked(fetcher: Fetcher, server: Any, target: str) -> None:
    location = target.format(port=server.port)

    @server.route("/to-internal")
    def _(request: Any) -> None:
        request.reply(302, headers={"Location": location})

    before = len(server.requests_to("/after"))
    with pytest.raises(BlockedAddressError) as refused:
        await fetcher.get(server.url("/to-internal"))
    assert refused.value.url == location
    assert len(server.requests_to("/after")) == before


# --- requests and responses ---------------------------------------------------------------


async def test_headers_sent_and_response_fields(fetcher: Fetcher, server: Any) -> None:
    @server.route("/feed.xml")
    def _(request: Any) -> None:
        request.reply(
            200,
            b"<rss/>",
            {
                "Content-Type": "Application/RSS+XML; charset=utf-8",
                "ETag": '"v1"',
                "Last-Modified": "Sun, 01 Mar 2026 10:00:00 GMT",
            },
        )

    fetched = await fetcher.get(server.url("/feed.xml"), accept="application/rss+xml")
    assert (fetched.status, fetched.content, fetched.url) == (
        200,
        b"<rss/>",
        server.url("/feed.xml"),
    )
    assert fetched.content_type == "application/rss+xml"
    assert fetched.etag == '"v1"'
    assert fetched.last_modified == "Sun, 01 Mar 2026 10:00:00 GMT"
    assert not fetched.not_modified
    assert fetched.elapsed > 0
    sent = server.requests_to("/feed.xml")[-1].headers
    assert sent["user-agent"] == USER_AGENT
    assert sent["accept"] == "application/rss+xml"
    assert sent["accept-encoding"] == "gzip, deflate, br"
    assert "if-none-match" not in sent
    assert "if-modified-since" not in sent


async def test_conditional_get(fetcher: Fetcher, server: Any) -> None:
    stamp = "Sun, 01 Mar 2026 10:00:00 GMT"

    @server.route("/conditional")
    def _(request: Any) -> None:
        if request.headers.get("If-None-Match") == '"v2"' or (
            request.headers.get("If-Modified-Since") == stamp
        ):
            request.reply(304, headers={"ETag": '"v2"'})
        else:
            request.reply(200, b"<feed/>", {"Content-Type": "application/atom+xml", "ETag": '"v2"'})

    first = await fetcher.get(server.url("/conditional"))
    assert (first.status, first.content, first.etag) == (200, b"<feed/>", '"v2"')

    by_etag = await fetcher.get(server.url("/conditional"), etag='"v2"')
    assert by_etag.not_modified
    assert (by_etag.status, by_etag.content, by_etag.etag) == (304, b"", '"v2"')
    assert server.requests_to("/conditional")[-1].headers["if-none-match"] == '"v2"'

    by_date = await fetcher.get(server.url("/conditional"), last_modified=stamp)
    assert by_date.not_modified
    assert server.requests_to("/conditional")[-1].headers["if-modified-since"] == stamp


async def test_no_cookies_are_kept_between_fetches(fetcher: Fetcher, server: Any) -> None:
    @server.route("/cookie")
    def _(request: Any) -> None:
        request.reply(200, b"ok", {"Content-Type": "text/plain", "Set-Cookie": "id=1; Path=/"})

    await fetcher.get(server.url("/cookie"))
    await fetcher.get(server.url("/cookie"))
    assert "cookie" not in server.requests_to("/cookie")[-1].headers


PAGE = ("<html><body><p>Ação e coração: notícias já publicadas.</p></body></html>" * 50).encode()


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),  # what some servers send as "deflate"
        ("br", brotli.compress),
        ("gzip, br", lambda data: brotli.compress(gzip.compress(data))),
        ("identity", lambda data: data),
    ],
)
async def test_compressed_bodies_are_decoded(
    fetcher: Fetcher, server: Any, encoding: str, encode: Any
) -> None:
    body = encode(PAGE)

    @server.route("/compressed")
    def _(request: Any) -> None:
        headers = {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": encoding}
        request.reply(200, body, headers)

    fetched = await fetcher.get(server.url("/compressed"))
    assert fetched.content == PAGE
    assert "Ação e coração" in fetched.text()


async def test_unknown_content_encoding_is_refused(fetcher: Fetcher, server: Any) -> None:
    @server.route("/zstd")
    def _(request: Any) -> None:
        request.reply(200, b"\x28\xb5\x2f\xfd", {"Content-Encoding": "zstd"})

    with pytest.raises(FetchError, match="unsupported Content-Encoding: zstd") as failed:
        await fetcher.get(server.url("/zstd"))
    assert failed.value.permanent


async def test_corrupt_compressed_body_is_an_error(fetcher: Fetcher, server: Any) -> None:
    @server.route("/corrupt")
    def _(request: Any) -> None:
        request.reply(200, b"definitely not gzip", {"Content-Encoding": "gzip"})

    with pytest.raises(FetchError, match="cannot decompress gzip"):
        await fetcher.get(server.url("/corrupt"))


# --- size limits --------------------------------------------------------------------------


def _bomb(encoding: str, size: int) -> bytes:
    """``size`` zero bytes, compressed, built without holding them all in memory."""
    block = bytes(MiB)
    if encoding == "gzip":
        gz = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return b"".join(gz.compress(block) for _ in range(size // MiB)) + gz.flush()
    br = brotli.Compressor(quality=5)
    return b"".join(br.process(block) for _ in range(size // MiB)) + br.finish()


@pytest.mark.parametrize("encoding", ["gzip", "br"])
async def test_decompression_bomb_is_stopped_at_the_cap(
    fetcher: Fetcher, server: Any, encoding: str
) -> None:
    """200 MiB of zeros in ~200 KB (gzip) or ~300 bytes (br), with a 1 MiB cap.

    Decoding whole network reads (as httpx's aiter_bytes does) would hold tens of MiB or,
    for brotli, all 200 MiB at once; the fetcher never holds much more than the cap.
    """
    bomb = _bomb(encoding, 200 * MiB)
    assert len(bomb) < MiB  # so only the decompressed size can trip the limit

    @server.route("/bomb")
    def _(request: Any) -> None:
        request.reply(200, bomb, {"Content-Type": "text/html", "Content-Encoding": encoding})

    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLargeError, match="after decompression") as failed:
            await fetcher.get(server.url("/bomb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert failed.value.permanent
    assert peak < 8 * MiB


async def test_declared_length_over_the_cap_is_refused_before_reading(
    fetcher: Fetcher, server: Any
) -> None:
    @server.route("/huge")
    def _(request: Any) -> None:
        request.reply(200, b"", {"Content-Type": "text/html", "Content-Length": str(100 * MiB)})
        time.sleep(2)  # the body never comes; the fetcher must not wait for it

    started = time.monotonic()
    with pytest.raises(ResponseTooLargeError, match="Content-Length 104857600 bytes"):
        await fetcher.get(server.url("/huge"))
    assert time.monotonic() - started < 1


async def test_undeclared_body_over_the_cap_is_cut_off(fetcher: Fetcher, server: Any) -> None:
    @server.route("/endless")
    def _(request: Any) -> None:
        # No Content-Length: the body runs until the connection closes.
        request.send_response(200)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Connection", "close")
        request.end_headers()
        chunk = b"x" * 65536
        for _ in range(64):  # 4 MiB, four times the cap
            request.wfile.write(chunk)

    with pytest.raises(ResponseTooLargeError, match="more than 1048576 bytes") as failed:
        await fetcher.get(server.url("/endless"))
    assert failed.value.permanent


async def test_body_at_the_cap_is_accepted(fetcher: Fetcher, server: Any) -> None:
    @server.route("/exact")
    def _(request: Any) -> None:
        request.reply(200, b"y" * MiB, {"Content-Type": "text/plain"})

    assert len((await fetcher.get(server.url("/exact"))).content) == MiB


# --- time limits --------------------------------------------------------------------------


async def test_slow_body_hits_the_overall_deadline(server: Any) -> None:
    @server.route("/trickle")
    def _(request: Any) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", "1000")
        request.end_headers()
        for _ in range(100):  # a byte per 0.1 s: never idle long enough for a read timeout
            request.wfile.write(b"z")
            request.wfile.flush()
            time.sleep(0.1)

    settings = settings_for(server, fetch_timeout_seconds=1.0)
    async with Fetcher(settings) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchError) as failed:
            await fetcher.get(server.url("/trickle"))
    assert 0.9 < time.monotonic() - started < 2.5
    assert failed.value.reason == "timed out after 1 s"
    assert not failed.value.permanent
    assert failed.value.url == server.url("/trickle")


async def test_connection_refused_is_temporary(server: Any) -> None:
    # A port nobody listens on: bind one and close it.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = settings_for(server, fetch_allow_hosts=[f"127.0.0.1:{port}"])
    async with Fetcher(settings) as fetcher:
        with pytest.raises(FetchError, match="cannot connect") as failed:
            await fetcher.get(f"http://127.0.0.1:{port}/")
    assert not failed.value.permanent
    assert failed.value.status is None


# --- redirects ----------------------------------------------------------------------------


async def test_redirects_are_followed_with_relative_locations(
    fetcher: Fetcher, server: Any
) -> None:
    hops = {
        "/r/1": (301, "/r/2"),
        "/r/2": (302, "3"),  # relative to /r/
        "/r/3": (303, "../r/4?via=303"),
        "/r/4": (307, server.url("/r/5")),
        "/r/5": (308, "/r/final#section"),
    }
    for path, (status, location) in hops.items():
        server.route(path)(
            lambda request, s=status, loc=location: request.reply(s, headers={"Location": loc})
        )

    @server.route("/r/final")
    def _(request: Any) -> None:
        request.reply(200, b"arrived", {"Content-Type": "text/plain"})

    fetched = await fetcher.get(server.url("/r/1"), etag='"e"')
    assert fetched.content == b"arrived"
    assert fetched.url == server.url("/r/final#section")  # as the last Location said
    assert server.requests_to("/r/4")[-1].path == "/r/4?via=303"
    # Every hop carries the User-Agent and the validators.
    for path in [*hops, "/r/final"]:
        assert server.requests_to(path)[-1].headers["user-agent"] == USER_AGENT
        assert server.requests_to(path)[-1].headers["if-none-match"] == '"e"'


async def test_redirect_loop_is_permanent(fetcher: Fetcher, server: Any) -> None:
    server.route("/loop/a")(lambda request: request.reply(302, headers={"Location": "/loop/b"}))
    server.route("/loop/b")(lambda request: request.reply(302, headers={"Location": "/loop/a"}))

    with pytest.raises(FetchError, match="redirect loop") as failed:
        await fetcher.get(server.url("/loop/a"))
    assert failed.value.permanent


async def test_too_many_redirects_is_permanent(server: Any) -> None:
    for n in range(4):
        server.route(f"/many/{n}")(
            lambda request, n=n: request.reply(301, headers={"Location": f"/many/{n + 1}"})
        )
    server.route("/many/4")(
        lambda request: request.reply(200, b"end", {"Content-Type": "text/plain"})
    )

    async with Fetcher(settings_for(server, fetch_max_redirects=3)) as fetcher:
        with pytest.raises(FetchError, match=r"too many redirects \(more than 3\)") as failed:
            await fetcher.get(server.url("/many/0"))
    assert failed.value.permanent
    async with Fetcher(settings_for(server, fetch_max_redirects=4)) as fetcher:
        assert (await fetcher.get(server.url("/many/0"))).content == b"end"


@pytest.mark.parametrize("location", ["ftp://example.org/feed", "file:///etc/passwd"])
async def test_redirect_to_another_scheme_is_refused(
    fetcher: Fetcher, server: Any, location: str
) -> None:
    server.route("/to-scheme")(lambda request: request.reply(302, headers={"Location": location}))

    with pytest.raises(FetchError, match="unsupported scheme") as failed:
        await fetcher.get(server.url("/to-scheme"))
    assert failed.value.permanent


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "file:///etc/passwd", "example.org/x"])
async def test_only_http_urls_are_fetched(fetcher: Fetcher, url: str) -> None:
    with pytest.raises(FetchError, match="unsupported scheme") as failed:
        await fetcher.get(url)
    assert failed.value.permanent


# --- statuses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason", "permanent"),
    [
        (404, "HTTP 404 Not Found", True),
        (410, "HTTP 410 Gone", True),
        (403, "HTTP 403 Forbidden", True),
        (408, "HTTP 408 Request Timeout", False),
        (500, "HTTP 500 Internal Server Error", False),
        (502, "HTTP 502 Bad Gateway", False),
    ],
)
async def test_error_statuses(
    fetcher: Fetcher, server: Any, status: int, reason: str, permanent: bool
) -> None:
    server.route(f"/status/{status}")(lambda request: request.reply(status, b"nope"))

    with pytest.raises(FetchError) as failed:
        await fetcher.get(server.url(f"/status/{status}"))
    assert (failed.value.reason, failed.value.status) == (reason, status)
    assert failed.value.permanent is permanent
    assert failed.value.retry_after is None
    assert str(failed.value) == f"{reason} ({server.url(f'/status/{status}')})"


async def test_rate_limited_with_retry_after_seconds(fetcher: Fetcher, server: Any) -> None:
    server.route("/busy")(lambda request: request.reply(429, headers={"Retry-After": "120"}))

    with pytest.raises(FetchError) as failed:
        await fetcher.get(server.url("/busy"))
    assert (failed.value.status, failed.value.retry_after) == (429, 120.0)
    assert not failed.value.permanent


async def test_unavailable_with_retry_after_date(fetcher: Fetcher, server: Any) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)
    server.route("/down")(lambda request: request.reply(503, headers={"Retry-After": when}))

    with pytest.raises(FetchError) as failed:
        await fetcher.get(server.url("/down"))
    assert failed.value.status == 503
    assert failed.value.retry_after is not None
    assert 590 <= failed.value.retry_after <= 600
    assert not failed.value.permanent


async def test_binary_content_is_refused(fetcher: Fetcher, server: Any) -> None:
    server.route("/image")(
        lambda request: request.reply(200, b"\x89PNG\r\n", {"Content-Type": "image/png"})
    )

    with pytest.raises(FetchError, match="not text: image/png") as failed:
        await fetcher.get(server.url("/image"))
    assert failed.value.permanent


# --- politeness ---------------------------------------------------------------------------


async def test_requests_per_host_are_limited(fetcher: Fetcher, server: Any) -> None:
    @server.route("/slow")
    def _(request: Any) -> None:
        time.sleep(0.3)
        request.reply(200, b"done", {"Content-Type": "text/plain"})

    results = await asyncio.gather(*(fetcher.get(server.url("/slow")) for _ in range(6)))
    assert [r.content for r in results] == [b"done"] * 6
    assert server.max_in_flight("/slow") == 2  # settings: fetch_per_host_concurrency=2


# --- text decoding ------------------------------------------------------------------------

CP1252_PAGE = "<p>Price: 5 €, “quoted” and ‘single’ — dash…</p>"
FRENCH = (
    "Le gouvernement a annoncé jeudi une série de mesures destinées à réduire la dépense "
    "publique. Selon le ministre de l'Économie, ces économies représentent près de deux "
    "milliards d'euros. Les syndicats ont dénoncé une réforme « précipitée » et appelé à "
    "manifester à Paris, à Lyon et à Marseille la semaine prochaine. Des élèves et des "
    "enseignants se sont joints aux cortèges ; la préfecture prévoit des fermetures de rues."
)
PORTUGUESE = (
    "O governo anunciou na quinta-feira um conjunto de medidas para reduzir a despesa "
    "pública. Segundo o ministro das Finanças, a poupança chegará a dois mil milhões de "
    "euros. Os sindicatos criticaram a reforma, considerada precipitada, e convocaram "
    "manifestações em Lisboa e no Porto. A população está preocupada com a situação da "
    "educação e da saúde, e a oposição exige explicações ao primeiro-ministro até sábado."
)


def test_windows_1252_labelled_iso_8859_1_keeps_euro_and_curly_quotes() -> None:
    content = CP1252_PAGE.encode("cp1252")
    assert {b"\x80", b"\x93", b"\x94"} <= {bytes([byte]) for byte in content}
    for label in ("iso-8859-1", "ISO-8859-1", "latin1", "us-ascii", '"iso-8859-1"'):
        assert decode_text(content, f"text/html; charset={label}") == CP1252_PAGE


@pytest.mark.parametrize("text", [FRENCH, PORTUGUESE])
def test_unlabelled_latin_1_is_detected(text: str) -> None:
    page = f"<html><body><p>{text}</p></body></html>"
    assert decode_text(page.encode("latin-1"), "text/html") == page
    assert decode_text(page.encode("latin-1"), None) == page


def test_utf8_is_kept_without_any_label() -> None:
    assert decode_text(PORTUGUESE.encode(), None) == PORTUGUESE


def test_bom_wins_over_everything() -> None:
    text = "<p>Ação</p>"
    assert decode_text(b"\xef\xbb\xbf" + text.encode(), "text/html; charset=iso-8859-1") == text
    assert decode_text(b"\xff\xfe" + text.encode("utf-16-le"), None) == text
    assert decode_text(b"\xfe\xff" + text.encode("utf-16-be"), "text/html") == text


def test_meta_charset_is_used_when_the_header_has_none() -> None:
    body = f'<html><head><meta charset="windows-1252"></head><body>{CP1252_PAGE}</body></html>'
    assert decode_text(body.encode("cp1252"), "text/html") == body
    legacy = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
        f"</head><body>{CP1252_PAGE}</body></html>"
    )
    assert decode_text(legacy.encode("cp1252"), None) == legacy
    # The header's charset comes first.
    utf8 = '<meta charset="iso-8859-1"><p>Ação</p>'
    assert decode_text(utf8.encode(), "text/html; charset=utf-8") == utf8
    # Only an early <meta> counts.
    late = "<html>" + " " * 5000 + '<meta charset="koi8-r"><p>Ação</p>'
    assert decode_text(late.encode(), "text/html") == late


def test_xml_declaration_is_used_for_feeds() -> None:
    feed = '<?xml version="1.0" encoding="ISO-8859-1"?><rss><title>Ação — “já”</title></rss>'
    assert decode_text(feed.encode("cp1252"), "application/rss+xml") == feed
    assert decode_text(feed.encode("cp1252"), None) == feed
    # In a feed, a <meta> in escaped or CDATA content says nothing about the feed.
    cdata = '<?xml version="1.0"?><rss><![CDATA[<meta charset="koi8-r">]]>Ação</rss>'
    assert decode_text(cdata.encode(), "application/xml") == cdata


def test_unusable_labels_are_ignored() -> None:
    text = "<p>Ação</p>"
    for label in ("no-such-charset", "base64", "utf-7", ""):
        assert decode_text(text.encode(), f"text/html; charset={label}") == text
    # A document cannot be UTF-16 if an ASCII pattern in it said so.
    assert decode_text(f'<meta charset="utf-16">{text}'.encode(), "text/html").endswith(text)


def test_undecodable_bytes_are_replaced() -> None:
    assert decode_text(b"caf\xc3", "text/plain; charset=utf-8") == "caf\ufffd"


async def test_fetched_text_uses_the_response_charset(fetcher: Fetcher, server: Any) -> None:
    server.route("/latin")(
        lambda request: request.reply(
            200, CP1252_PAGE.encode("cp1252"), {"Content-Type": "text/html; charset=iso-8859-1"}
        )
    )
    assert (await fetcher.get(server.url("/latin"))).text() == CP1252_PAGE


# --- header values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Sun, 01 Mar 2026 12:05:00 GMT", 300.0),
        ("Sunday, 01-Mar-26 12:05:00 GMT", 300.0),  # RFC 850
        ("Sun Mar  1 12:05:00 2026", 300.0),  # asctime
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),  # past: now
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_seconds(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"Cache-Control": "public, max-age=600"}, 600.0),
        ({"Cache-Control": "max-age=600", "Age": "100"}, 500.0),
        ({"Cache-Control": "s-maxage=900"}, None),
        ({"Cache-Control": "s-maxage=900, max-age=60"}, 60.0),
        ({"Expires": "Sun, 01 Mar 2026 13:00:00 GMT"}, 3600.0),
        ({"Expires": "Sun, 01 Mar 2026 11:00:00 GMT"}, 0.0),
        ({"Expires": "0"}, 0.0),
        ({"Cache-Control": "max-age=60", "Expires": "Sun, 01 Mar 2026 13:00:00 GMT"}, 3600.0),
        ({"Cache-Control": "max-age=7200", "Expires": "Sun, 01 Mar 2026 13:00:00 GMT"}, 7200.0),
        ({"Cache-Control": "no-store, max-age=600"}, 0.0),
        ({"Cache-Control": "no-cache", "Expires": "Sun, 01 Mar 2026 13:00:00 GMT"}, 0.0),
        ({"Cache-Control": 'no-cache="Set-Cookie", max-age=60'}, 60.0),
        ({"Cache-Control": "max-age=soon"}, None),
    ],
)
def test_freshness_seconds(headers: dict[str, str], seconds: float | None) -> None:
    assert freshness_seconds(httpx.Headers(headers), NOW) == seconds
