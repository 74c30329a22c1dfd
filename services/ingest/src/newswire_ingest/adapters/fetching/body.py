"""Reading a response body within a size limit, its Content-Encoding undone a bounded piece
at a time, so that a decompression bomb never gets far past the limit (httpx's own decoders
inflate a whole network read at once)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Protocol

import brotli
import httpx

from .errors import FetchError, ResponseTooLargeError

__all__ = ["read_body"]

_PIECE = 64 * 1024


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
