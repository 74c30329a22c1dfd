"""Content-Type values: their media type and charset, and the media types of pages."""

from __future__ import annotations

__all__ = ["HTML_TYPES", "split_content_type"]

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def split_content_type(value: str | None) -> tuple[str | None, str | None]:
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
