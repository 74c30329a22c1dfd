"""The fetcher: one GET with conditional headers, redirects followed and counted by hand."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http import HTTPStatus
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Self

import httpx

from newswire_ingest.domain.media_types import split_content_type

from .addresses import AllowList, check_addresses
from .cache_headers import retry_after_seconds
from .charset import decode_text
from .errors import FetchError
from .host_slots import HostSlots
from .transport import SafeTransport, read_body

__all__ = ["FetchOptions", "Fetched", "Fetcher"]

ACCEPT_ENCODING = "gzip, deflate, br"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
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


@dataclass(frozen=True)
class FetchOptions:
    """The fetcher's manners and limits (IngestSettings' ``fetch_*``)."""

    user_agent: str
    connect_timeout_seconds: float
    timeout_seconds: float
    max_bytes: int
    max_redirects: int
    per_host_concurrency: int
    allow_hosts: tuple[str, ...] = ()
    """host or host:port that may be fetched although they resolve to non-public addresses."""


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
        return split_content_type(self.headers.get("content-type"))[0]

    def text(self) -> str:
        return decode_text(self.content, self.headers.get("content-type"))


class Fetcher:
    """Fetches feeds and pages within its FetchOptions; share one per process."""

    def __init__(
        self, options: FetchOptions, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        """``transport`` replaces the SafeTransport (tests); it then owns the address checks,
        except for IP-literal URLs, which are always checked here."""
        self._options = options
        self._allow = AllowList(options.allow_hosts)
        self._slots = HostSlots(options.per_host_concurrency)
        self._client = httpx.AsyncClient(
            transport=transport or SafeTransport(options.allow_hosts),
            follow_redirects=False,  # each hop is checked and counted here
            timeout=httpx.Timeout(options.timeout_seconds, connect=options.connect_timeout_seconds),
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
        options = self._options
        headers = {
            "User-Agent": options.user_agent,
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
                    deadline = loop.time() + options.timeout_seconds
                try:
                    async with asyncio.timeout_at(deadline):
                        outcome = await self._exchange(current, headers)
                except TimeoutError:
                    raise FetchError(
                        f"timed out after {options.timeout_seconds:g} s", url=str(current)
                    ) from None
            if isinstance(outcome, Fetched):
                return replace(outcome, elapsed=time.monotonic() - started)
            if len(seen) > options.max_redirects:
                raise FetchError(
                    f"too many redirects (more than {options.max_redirects})",
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
        check_addresses(parsed.host, port, [ip], self._allow, url=str(parsed))
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
                f"timed out connecting after {self._options.connect_timeout_seconds:g} s",
                url=str(url),
            ) from None
        except httpx.TimeoutException:
            raise FetchError(
                f"timed out after {self._options.timeout_seconds:g} s", url=str(url)
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
        media_type = split_content_type(response.headers.get("content-type"))[0]
        if not _is_text(media_type):
            raise FetchError(f"not text: {media_type}", status=response.status_code, permanent=True)
        return await read_body(response, self._options.max_bytes)


def _is_text(media_type: str | None) -> bool:
    return (
        media_type is None
        or media_type.startswith("text/")
        or media_type.endswith(("+xml", "+json"))
        or media_type in _TEXT_TYPES
    )


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
