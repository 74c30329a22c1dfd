"""Reading submission files."""

import json
from pathlib import Path

import pytest
from newswire_cli.records import Record, RecordError, read_records

pytestmark = pytest.mark.unit

SAMPLE = Path(__file__).parents[3] / "data" / "sample"


def test_jsonl_lines_become_records_and_bad_lines_errors(tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl"
    path.write_text(
        '{"url": "https://news.example/a", "text": "A", "shown_as": "ignored"}\n'
        "\n"
        "{broken\n"
        '["not", "an", "object"]\n'
        '{"title": "no url"}\n'
    )
    items = list(read_records(path))
    assert items[0] == Record(f"{path}:1", {"url": "https://news.example/a", "text": "A"})
    assert [(type(i).__name__, getattr(i, "reason", "")) for i in items[1:]] == [
        ("RecordError", "not JSON: Expecting property name enclosed in double quotes"),
        ("RecordError", "a record must be a JSON object"),
        ("RecordError", "record has no url"),
    ]
    assert items[1].origin == f"{path}:3"  # type: ignore[union-attr]


def test_news_please_articles_are_mapped() -> None:
    [record] = list(
        read_records(
            SAMPLE
            / "news-cluster"
            / "08cea3165e2583223a240754590e40698af4391b3a9f26d39f21c1d5.json"
        )
    )
    assert isinstance(record, Record)
    raw = json.loads(
        (
            SAMPLE
            / "news-cluster"
            / "08cea3165e2583223a240754590e40698af4391b3a9f26d39f21c1d5.json"
        ).read_text()
    )
    assert record.body["url"] == raw["url"]
    assert record.body["source"] == raw["source_domain"]
    assert record.body["text"] == raw["text"]
    assert record.body["published_at"] == raw["date_publish"] + "Z"
    assert set(record.body) <= {"url", "title", "text", "source", "published_at", "language"}


def test_a_directory_is_read_recursively_in_order() -> None:
    items = list(read_records(SAMPLE))
    assert all(isinstance(i, Record) for i in items)
    assert len(items) == 34  # 4 seed articles in one JSON list, 30 news-please files
    assert sum(i.origin.startswith(str(SAMPLE / "seed")) for i in items) == 4  # type: ignore[union-attr]


def test_an_unreadable_json_file_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(b"\xff\xfe")
    [error] = list(read_records(path))
    assert isinstance(error, RecordError)
    assert "not readable as JSON" in error.reason
