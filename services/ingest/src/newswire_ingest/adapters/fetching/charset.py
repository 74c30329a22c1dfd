"""Bytes to text, in the encoding browsers would use for them."""

from __future__ import annotations

import codecs
import re

import charset_normalizer

from newswire_ingest.domain.media_types import split_content_type

__all__ = ["decode_text"]

_SNIFF_BYTES = 4096
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
    media_type, charset = split_content_type(content_type)
    encoding = (
        _codec(charset) or _declared_in_document(content, media_type) or _guess(content) or "utf-8"
    )
    return content.decode(encoding, errors="replace")
