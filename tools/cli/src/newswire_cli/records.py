"""Reading articles to submit from JSON Lines, JSON and news-please files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["Record", "RecordError", "read_records"]

# Fields of POST /v1/articles; anything else in a record is not sent.
SUBMISSION_FIELDS = ("url", "title", "text", "html", "source", "published_at", "language")


@dataclass(frozen=True)
class Record:
    """One article to submit, and where it came from (for error messages)."""

    origin: str
    body: dict[str, Any]


class RecordError(ValueError):
    """A line or file that is not an article record."""

    def __init__(self, origin: str, reason: str) -> None:
        super().__init__(f"{origin}: {reason}")
        self.origin = origin
        self.reason = reason


def read_records(path: Path) -> Iterator[Record | RecordError]:
    """Yield records (or the errors of unreadable ones) from a file or a directory tree.

    ``.jsonl`` files hold one record per line; ``.json`` files one record or a list. A
    record is a submission (``url``, ``text``, ...) or a news-please article
    (``date_publish``, ``source_domain``, ``maintext``/``text``), which is mapped.
    """
    if path.is_dir():
        for child in sorted(
            p for p in path.rglob("*") if p.suffix in (".json", ".jsonl") and p.is_file()
        ):
            yield from read_records(child)
        return
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield _parse(f"{path}:{number}", line)
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        yield RecordError(str(path), f"not readable as JSON: {exc}")
        return
    items = data if isinstance(data, list) else [data]
    for index, item in enumerate(items):
        origin = f"{path}[{index}]" if isinstance(data, list) else str(path)
        yield _to_record(origin, item)


def _parse(origin: str, line: str) -> Record | RecordError:
    try:
        return _to_record(origin, json.loads(line))
    except json.JSONDecodeError as exc:
        return RecordError(origin, f"not JSON: {exc.msg}")


def _to_record(origin: str, item: Any) -> Record | RecordError:
    if not isinstance(item, dict):
        return RecordError(origin, "a record must be a JSON object")
    if "date_publish" in item or "source_domain" in item:
        item = _from_news_please(item)
    body = {name: item[name] for name in SUBMISSION_FIELDS if item.get(name) not in (None, "")}
    if "url" not in body:
        return RecordError(origin, "record has no url")
    return Record(origin, body)


def _from_news_please(item: dict[str, Any]) -> dict[str, Any]:
    published = item.get("date_publish")
    return {
        "url": item.get("url"),
        "title": item.get("title"),
        "text": item.get("maintext") or item.get("text"),
        "source": item.get("source_domain"),
        # news-please writes naive local times of the crawl; UTC is the honest guess.
        "published_at": _as_utc(published) if published else None,
        "language": item.get("language"),
    }


def _as_utc(value: str) -> str | None:
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        return None
    return moment.isoformat() + "Z" if moment.tzinfo is None else moment.isoformat()
