"""`newswire dlq`: what can be checked without Kafka."""

from __future__ import annotations

import json

import pytest
from newswire_cli.config import CliSettings
from newswire_cli.dlq import (
    SERVICES,
    DeadLetter,
    DlqListing,
    PartitionProgress,
    ReplayOutcome,
    ReplaySummary,
    display_bytes,
    dlq_topic,
    format_letter,
    one_line,
    parse_offset,
    replay_group,
    text_or_base64,
)
from newswire_cli.main import _parser
from newswire_contracts.dead_letters import REPLAYED_FROM as REPLAYED_FROM_HEADER
from newswire_contracts.dead_letters import replay_headers

pytestmark = pytest.mark.unit

REASON = (
    "InvalidEventError: 1 validation error for ArticleIngested\n"
    "url\n  Field required [type=missing]"
)


def letter(offset: int = 17, **overrides: object) -> DeadLetter:
    headers: list[tuple[str, bytes | None]] = [
        ("ce_id", b"e-1"),
        ("ce_type", b"newswire.article.ingested.v1"),
        ("x-odd", b"\xff\xfe"),
        ("x-dlq-reason", REASON.encode()),
        ("x-dlq-error-type", b"InvalidEventError"),
        ("x-dlq-service", b"enrich"),
        ("x-dlq-attempts", b"1"),
        ("x-dlq-original-topic", b"p.articles.ingested"),
        ("x-dlq-original-partition", b"2"),
        ("x-dlq-original-offset", b"40"),
        ("x-dlq-original-timestamp", b"1767225600000"),
        ("x-dlq-failed-at", b"2026-01-01T00:00:01Z"),
    ]
    fields: dict[str, object] = {
        "topic": "p.enrich.dlq",
        "partition": 1,
        "offset": offset,
        "timestamp": 1767225601000,
        "key": b"article-1",
        "headers": tuple(headers),
        "value_size": 11,
        "value": b'{"id": 42}',
    }
    fields.update(overrides)
    return DeadLetter(**fields)  # type: ignore[arg-type]


def test_names_follow_the_prefix() -> None:
    assert dlq_topic("enrich", "t1.") == "t1.enrich.dlq"
    assert dlq_topic("relate") == "relate.dlq"
    assert "gateway" not in SERVICES, "the gateway consumes nothing, so dead-letters nothing"
    assert replay_group("relate", "t1.") == "t1.newswire-dlq-replay-relate"


@pytest.mark.parametrize(
    ("text", "expected"), [("2:17", (2, 17)), (" 0:0 ", (0, 0)), ("10: 3", (10, 3))]
)
def test_offsets_parse(text: str, expected: tuple[int, int]) -> None:
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", ["17", "2:", ":17", "a:1", "-1:3", "1:2:3", "1:-2"])
def test_bad_offsets_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="PARTITION:OFFSET"):
        parse_offset(text)


def test_the_command_line_takes_repeated_offsets_or_all() -> None:
    parser = _parser(CliSettings())
    args = parser.parse_args(
        ["--topic-prefix", "t.", "dlq", "replay", "enrich", "--offset", "2:17", "--offset", "0:3"]
    )
    assert (args.topic_prefix, args.service, args.offsets, args.all) == (
        "t.",
        "enrich",
        [(2, 17), (0, 3)],
        False,
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["dlq", "replay", "enrich", "--all", "--offset", "1:1"])
    with pytest.raises(SystemExit):
        parser.parse_args(["dlq", "replay", "enrich", "--offset", "x"])


def test_settings_read_kafka_like_the_services(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("NEWSWIRE_TOPIC_PREFIX", "staging.")
    settings = CliSettings()
    assert settings.kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.topic_prefix == "staging."
    args = _parser(settings).parse_args(["--bootstrap", "other:9092", "dlq", "list"])
    assert args.bootstrap == "other:9092"
    assert args.topic_prefix == "staging."


def test_bytes_become_text_when_they_can() -> None:
    assert text_or_base64(b"caf\xc3\xa9") == "café"
    assert text_or_base64(b"\xff\xfe") == {"base64": "//4="}
    assert text_or_base64(None) is None
    assert display_bytes(b"article-1") == "article-1"
    assert display_bytes(b"\xff\xfe") == "base64://4="
    assert display_bytes(b"line\nbreak") == "base64:bGluZQpicmVhaw=="
    assert display_bytes(None) == "-"
    assert display_bytes(b"x" * 100, limit=10) == "xxxxxxxxx…"


def test_one_line_collapses_and_truncates() -> None:
    assert one_line("a\n  b\tc ") == "a b c"
    assert one_line("x" * 10, limit=5) == "xxxx…"


def test_headers_are_read() -> None:
    dead = letter()
    assert dead.reason == REASON
    assert dead.error_type == "InvalidEventError"
    assert dead.service == "enrich"
    assert dead.attempts == 1
    assert (dead.original_topic, dead.original_partition, dead.original_offset) == (
        "p.articles.ingested",
        2,
        40,
    )
    assert dead.failed_at == "2026-01-01T00:00:01Z"
    assert dead.coordinates == "p.enrich.dlq:1:17"
    assert dead.error == REASON, "the platform's reason already starts with the type"
    other = letter(headers=(("x-dlq-reason", b"boom"), ("x-dlq-error-type", b"KeyError")))
    assert other.error == "KeyError: boom"
    assert other.original_topic is None
    assert other.attempts is None
    assert letter(headers=()).error == "-"


def test_replay_strips_dead_letter_headers_and_says_where_it_came_from() -> None:
    dead = letter()
    headers = replay_headers(dead.headers, dead.coordinates)
    assert headers == [
        ("ce_id", b"e-1"),
        ("ce_type", b"newswire.article.ingested.v1"),
        ("x-odd", b"\xff\xfe"),
        (REPLAYED_FROM_HEADER, b"p.enrich.dlq:1:17"),
    ]
    # A replay that failed again and is replayed once more names only the latest source.
    again = replay_headers([*headers, ("X-DLQ-Reason", b"x")], "p.enrich.dlq:0:3")
    assert [name for name, _ in again].count(REPLAYED_FROM_HEADER) == 1
    assert again[-1] == (REPLAYED_FROM_HEADER, b"p.enrich.dlq:0:3")


def test_a_letter_is_one_line_of_text() -> None:
    line = format_letter(letter(replay="replayed"))
    assert line == (
        "1:17  2026-01-01T00:00:01Z  enrich  attempts=1  from p.articles.ingested 2:40  "
        "key=article-1  replayed  InvalidEventError: 1 validation error for ArticleIngested "
        "url Field required [type=missing]"
    )
    long_reason = letter(headers=(("x-dlq-reason", b"x\n" * 500),))
    assert "\n" not in format_letter(long_reason)
    assert len(format_letter(long_reason)) < 300
    bare = format_letter(letter(headers=(), key=None))
    assert bare == "1:17  2026-01-01T00:00:01.000Z  -  attempts=-  from -  key=-  not replayed  -"


def test_a_letter_as_json_has_everything() -> None:
    body = letter().as_json()
    assert json.loads(json.dumps(body)) == body
    assert body["original_topic"] == "p.articles.ingested"
    assert body["original_timestamp"] == "2026-01-01T00:00:00.000Z"
    assert body["timestamp"] == "2026-01-01T00:00:01.000Z"
    assert body["key"] == "article-1"
    assert body["value_size"] == 11
    assert (body["replay"], body["replayed"]) == ("pending", False)
    assert ["x-odd", {"base64": "//4="}] in body["headers"]
    assert ["x-dlq-attempts", "1"] in body["headers"]
    assert "value" not in body


def test_progress_of_replay_all_and_single_replays() -> None:
    progress = PartitionProgress.parse(-1, "")
    assert progress.position is None
    assert progress.state(0) == "pending"
    progress.mark_replayed(5)  # --offset 1:5, before any --all
    assert progress.state(5) == "replayed"
    progress.advance(0)
    progress.advance(1, skipped=True)
    assert progress.position == 2
    assert [progress.state(o) for o in range(6)] == [
        "replayed",
        "skipped",
        "pending",
        "pending",
        "pending",
        "replayed",
    ]
    assert json.loads(progress.metadata()) == {"replayed": [5], "skipped": [1]}
    restored = PartitionProgress.parse(2, progress.metadata())
    assert restored == progress
    restored.mark_replayed(1)  # the skipped one, replayed by hand once it could be
    assert restored.state(1) == "replayed"
    restored.advance(5)
    assert restored.metadata() == ""
    assert restored.state(3) == "replayed"


def test_progress_survives_bad_metadata_and_stays_small() -> None:
    assert PartitionProgress.parse(7, "{not json") == PartitionProgress(position=7)
    assert PartitionProgress.parse(7, '{"replayed": ["x", -1, 9]}').replayed == {9}
    big = PartitionProgress(position=10**9, skipped=set(range(10**8, 10**8 + 1000)))
    assert len(big.metadata()) <= 3000
    assert max(json.loads(big.metadata())["skipped"]) == 10**8 + 999, "the newest are kept"


def test_listing_headings() -> None:
    assert DlqListing("relate", "p.relate.dlq", exists=False).heading() == (
        "p.relate.dlq: no such topic (nothing dead-lettered; "
        "has relate run with this topic prefix?)"
    )
    assert DlqListing("enrich", "p.enrich.dlq", exists=True).heading() == "p.enrich.dlq: empty"
    shown = DlqListing("enrich", "p.enrich.dlq", exists=True, total=3, replayed=1)
    shown.letters = [letter(1)]
    assert shown.heading() == (
        "p.enrich.dlq: 3 dead letters, 1 replayed (showing the 1 most recent)"
    )


def test_replay_summary() -> None:
    summary = ReplaySummary("enrich", "p.enrich.dlq")
    summary.outcomes = [
        ReplayOutcome(letter(1), "replayed", "p.articles.ingested"),
        ReplayOutcome(letter(2), "already-replayed"),
        ReplayOutcome(letter(3), "skipped", reason="no x-dlq-original-topic header"),
        ReplayOutcome(letter(4), "skipped", reason="no x-dlq-original-topic header"),
        ReplayOutcome(letter(5), "skipped", "gone", reason="original topic gone does not exist"),
    ]
    assert summary.render() == (
        "p.enrich.dlq: replayed 1, skipped 3, 1 already replayed with --offset\n"
        "skipped, by reason:\n"
        "      2  no x-dlq-original-topic header\n"
        "      1  original topic gone does not exist"
    )
    assert not summary.ok
    assert summary.outcomes[0].render() == (
        "replayed 1:1 -> p.articles.ingested  key=article-1  11 bytes"
    )
    assert summary.outcomes[2].render(dry_run=True) == (
        "would skip 1:3: no x-dlq-original-topic header"
    )

    failed = ReplaySummary("enrich", "p.enrich.dlq")
    failed.outcomes = [
        ReplayOutcome(letter(1), "replayed", "t", again=True),
        ReplayOutcome(letter(2), "failed", "t", reason="KafkaTimeoutError: timed out"),
    ]
    assert failed.render().splitlines() == [
        "p.enrich.dlq: replayed 1, skipped 0",
        "stopped at 1:2: KafkaTimeoutError: timed out (nothing after it was replayed; "
        "run again to continue)",
    ]
    assert "(again)" in failed.outcomes[0].render()

    dry = ReplaySummary("enrich", "p.enrich.dlq", dry_run=True)
    dry.outcomes = [ReplayOutcome(letter(1), "replayed", "t")]
    assert dry.render() == "p.enrich.dlq: dry run, would replay 1, would skip 0"
    assert dry.ok
    assert dry.outcomes[0].render(dry_run=True).startswith("would replay 1:1 -> t")

    missing = ReplaySummary("relate", "p.relate.dlq", exists=False)
    assert missing.render() == "p.relate.dlq: no such topic, nothing to replay"
