"""Dead-letter topics: list what the services could not process, and replay it.

Each consuming service dead-letters to its own topic (``<prefix><service>.dlq``); a dead
letter keeps the original key, value and headers (bytes, not necessarily UTF-8) and adds
``x-dlq-*`` headers saying why it failed and where it came from (see
``newswire_contracts.dead_letters``).

Reading never joins a consumer group: every partition is assigned by hand and read from
its first offset up to the end offsets taken at the start, so a listing terminates even
while services keep dead-lettering.

Replay progress lives in the consumer group ``<prefix>newswire-dlq-replay-<service>``,
committed per partition after every send (nobody consumes as that group):

* its offset is the position of ``replay --all``: every dead letter below it was replayed,
  or passed over as not replayable (recorded in the commit metadata as ``skipped``);
* ``replay --offset P:O`` replays exactly those dead letters and leaves the position where
  it is; the offsets it replayed above the position are recorded in the metadata
  (``replayed``), so ``list`` shows them as replayed and ``replay --all`` does not send
  them again.

Two replays of the same service at the same time are not supported.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, ClassVar, Literal

from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata
from newswire_contracts import dead_letters
from newswire_contracts.topics import ENRICH_DLQ, INGEST_DLQ, RELATE_DLQ
from newswire_platform import LogReader, ServiceSettings, clients

__all__ = [
    "SERVICES",
    "DeadLetter",
    "DlqError",
    "DlqListing",
    "PartitionProgress",
    "ReplayOutcome",
    "ReplaySummary",
    "decode_bytes",
    "dlq_topic",
    "format_letter",
    "list_dead_letters",
    "one_line",
    "parse_offset",
    "replay_dead_letters",
    "replay_group",
    "text_or_base64",
]

SERVICES: dict[str, str] = {"ingest": INGEST_DLQ, "enrich": ENRICH_DLQ, "relate": RELATE_DLQ}
"""Each service and its dead-letter topic (contract name, without the prefix)."""

# The broker refuses commit metadata over offset.metadata.max.bytes (4096 by default).
_MAX_METADATA_CHARS = 3000
_IDLE_TIMEOUT = 30.0
"""Give up reading when no record arrives for this long though the end is not reached."""

ReplayState = Literal["pending", "replayed", "skipped"]


class DlqError(Exception):
    """Kafka could not be reached or did not answer; ``str()`` says what failed."""


def dlq_topic(service: str, topic_prefix: str = "") -> str:
    """The deployed name of a service's dead-letter topic."""
    return f"{topic_prefix}{SERVICES[service]}"


def replay_group(service: str, topic_prefix: str = "") -> str:
    """The consumer group that holds the replay progress of a service's dead letters."""
    return f"{topic_prefix}newswire-dlq-replay-{service}"


def parse_offset(text: str) -> tuple[int, int]:
    """``"2:17"`` -> ``(2, 17)``: a partition and an offset of the dead-letter topic."""
    partition, sep, offset = text.strip().partition(":")
    if not sep or not partition.strip().isdigit() or not offset.strip().isdigit():
        raise ValueError(f"expected PARTITION:OFFSET (two non-negative integers), got {text!r}")
    return int(partition), int(offset)


# --- bytes as people and JSON see them -------------------------------------------------


def decode_bytes(value: bytes | None) -> str | None:
    """The text of a header value or key, if it is UTF-8 (None if it is not, or absent)."""
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def text_or_base64(value: bytes | None) -> str | dict[str, str] | None:
    """For JSON: the text when ``value`` is UTF-8, else ``{"base64": "..."}``."""
    text = decode_bytes(value)
    if text is not None or value is None:
        return text
    return {"base64": base64.b64encode(value).decode("ascii")}


def display_bytes(value: bytes | None, *, limit: int = 80) -> str:
    """For one line of text: printable UTF-8 as is, anything else as ``base64:...``."""
    if value is None:
        return "-"
    text = decode_bytes(value)
    if text is None or not text.isprintable():
        text = "base64:" + base64.b64encode(value).decode("ascii")
    return _truncate(text, limit)


def one_line(text: str, limit: int = 160) -> str:
    """Whitespace (newlines included) collapsed to single spaces, cut at ``limit``."""
    return _truncate(re.sub(r"\s+", " ", text).strip(), limit)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


# --- what a dead letter says -----------------------------------------------------------


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    """Milliseconds since the epoch: when the dead letter was written."""
    key: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    value_size: int
    value: bytes | None = field(default=None, repr=False)
    """Kept only when reading for a replay."""
    replay: ReplayState = "pending"

    @classmethod
    def from_record(
        cls, record: ConsumerRecord[Any, Any], *, keep_value: bool, replay: ReplayState
    ) -> DeadLetter:
        value = record.value
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            timestamp=record.timestamp,
            key=record.key,
            headers=tuple(record.headers or ()),
            value_size=len(value or b""),
            value=value if keep_value else None,
            replay=replay,
        )

    @property
    def coordinates(self) -> str:
        """``<topic>:<partition>:<offset>``, the value of ``x-dlq-replayed-from``."""
        return f"{self.topic}:{self.partition}:{self.offset}"

    @cached_property
    def failure(self) -> dead_letters.Failure:
        """What its ``x-dlq-*`` headers say."""
        return dead_letters.Failure.read(self.headers)

    def __getattr__(self, name: str) -> Any:
        """The fields of ``failure`` read as the letter's own (``reason``, ``attempts``, ...)."""
        if name in dead_letters.Failure.__slots__:
            return getattr(self.failure, name)
        raise AttributeError(name)

    @property
    def error(self) -> str:
        """``Type: reason`` (the reason already starts with the type when the platform wrote it)."""
        reason, error_type = self.reason, self.error_type
        if reason and error_type and not reason.startswith(f"{error_type}:"):
            return f"{error_type}: {reason}"
        return reason or error_type or "-"

    def as_json(self) -> dict[str, Any]:
        """Everything known about the dead letter, bytes as text or base64."""
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp": _iso_millis(self.timestamp),
            "failed_at": self.failed_at,
            "service": self.service,
            "attempts": self.attempts,
            "error_type": self.error_type,
            "reason": self.reason,
            "original_topic": self.original_topic,
            "original_partition": self.original_partition,
            "original_offset": self.original_offset,
            "original_timestamp": _iso_millis(original)
            if (original := self.failure.original_timestamp) is not None and original >= 0
            else None,
            "key": text_or_base64(self.key),
            "value_size": self.value_size,
            "replay": self.replay,
            "replayed": self.replay == "replayed",
            "headers": [[name, text_or_base64(value)] for name, value in self.headers],
        }


def _iso_millis(millis: int) -> str:
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


_REPLAY_LABELS: dict[ReplayState, str] = {
    "pending": "not replayed",
    "replayed": "replayed",
    "skipped": "skipped by replay",
}


def format_letter(letter: DeadLetter) -> str:
    """One line: where it is, when and where it failed, the key, the replay state, the error."""
    original = "-"
    if letter.original_topic:
        original = f"{letter.original_topic} {_or_dash(letter.original_partition)}:{_or_dash(letter.original_offset)}"
    return "  ".join(
        [
            f"{letter.partition}:{letter.offset}",
            letter.failed_at or _iso_millis(letter.timestamp),
            letter.service or "-",
            f"attempts={_or_dash(letter.attempts)}",
            f"from {original}",
            f"key={display_bytes(letter.key, limit=60)}",
            _REPLAY_LABELS[letter.replay],
            one_line(letter.error),
        ]
    )


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


# --- replay progress -------------------------------------------------------------------


@dataclass
class PartitionProgress:
    """What ``replay`` did on one partition of a dead-letter topic (see the module doc)."""

    position: int | None = None
    """Where ``replay --all`` continues; None: it never ran."""
    replayed: set[int] = field(default_factory=set)
    """Offsets at or above ``position`` replayed one by one (``--offset``)."""
    skipped: set[int] = field(default_factory=set)
    """Offsets below ``position`` that ``--all`` passed over without replaying them."""

    def state(self, offset: int) -> ReplayState:
        if offset in self.skipped:
            return "skipped"
        if (self.position is not None and offset < self.position) or offset in self.replayed:
            return "replayed"
        return "pending"

    def advance(self, offset: int, *, skipped: bool = False) -> None:
        """``replay --all`` is done with ``offset`` (replayed, or passed over if ``skipped``)."""
        if skipped:
            self.skipped.add(offset)
        else:
            self.skipped.discard(offset)
        self.position = max(self.position or 0, offset + 1)
        self.replayed = {o for o in self.replayed if o >= self.position}

    def mark_replayed(self, offset: int) -> None:
        """``replay --offset`` sent ``offset``; the position stays."""
        self.skipped.discard(offset)
        if self.position is None or offset >= self.position:
            self.replayed.add(offset)

    def metadata(self) -> str:
        """The commit metadata: the sets as JSON, the oldest entries dropped if too long."""
        replayed, skipped = sorted(self.replayed), sorted(self.skipped)
        while True:
            body = {"replayed": replayed, "skipped": skipped}
            body = {name: offsets for name, offsets in body.items() if offsets}
            text = json.dumps(body, separators=(",", ":")) if body else ""
            if len(text) <= _MAX_METADATA_CHARS:
                return text
            if skipped:
                skipped = skipped[1:]
            else:
                replayed = replayed[1:]

    @classmethod
    def parse(cls, offset: int, metadata: str | None) -> PartitionProgress:
        """From a committed offset (-1: none) and its metadata (garbage is ignored)."""
        progress = cls(position=offset if offset >= 0 else None)
        try:
            body = json.loads(metadata) if metadata else {}
        except ValueError:
            body = {}
        if isinstance(body, dict):
            for name in ("replayed", "skipped"):
                items = body.get(name)
                if isinstance(items, list):
                    getattr(progress, name).update(
                        o for o in items if isinstance(o, int) and o >= 0
                    )
        return progress


# --- list ------------------------------------------------------------------------------


@dataclass
class DlqListing:
    """The dead letters of one service's topic."""

    service: str
    topic: str
    exists: bool
    total: int = 0
    replayed: int = 0
    letters: list[DeadLetter] = field(default_factory=list)
    """The ones shown: all of them, or the most recent ``limit``; oldest first."""

    def heading(self) -> str:
        if not self.exists:
            return (
                f"{self.topic}: no such topic (nothing dead-lettered; "
                f"has {self.service} run with this topic prefix?)"
            )
        if not self.total:
            return f"{self.topic}: empty"
        noun = "dead letter" if self.total == 1 else "dead letters"
        text = f"{self.topic}: {self.total} {noun}, {self.replayed} replayed"
        if len(self.letters) < self.total:
            text += f" (showing the {len(self.letters)} most recent)"
        return text


async def list_dead_letters(
    services: Sequence[str],
    *,
    bootstrap_servers: str,
    topic_prefix: str = "",
    limit: int | None = None,
) -> list[DlqListing]:
    """Every dead letter of the services' topics, with whether it has been replayed."""
    listings: list[DlqListing] = []
    async with _Kafka(bootstrap_servers) as kafka:
        topics = await kafka.reader.topics()
        for service in services:
            topic = dlq_topic(service, topic_prefix)
            if topic not in topics:
                listings.append(DlqListing(service, topic, exists=False))
                continue
            partitions = [TopicPartition(topic, p) for p in sorted(topics[topic])]
            progress = await kafka.progress(replay_group(service, topic_prefix), partitions)
            letters: list[DeadLetter] = []
            async with aclosing(kafka.read(partitions)) as records:
                async for record in records:
                    tp = TopicPartition(topic, record.partition)
                    state = progress[tp].state(record.offset)
                    letters.append(DeadLetter.from_record(record, keep_value=False, replay=state))
            letters.sort(key=lambda letter: (letter.timestamp, letter.partition, letter.offset))
            listing = DlqListing(
                service,
                topic,
                exists=True,
                total=len(letters),
                replayed=sum(letter.replay == "replayed" for letter in letters),
                letters=letters[max(len(letters) - limit, 0) :] if limit is not None else letters,
            )
            listings.append(listing)
    return listings


# --- replay ----------------------------------------------------------------------------


Action = Literal["replayed", "skipped", "already-replayed", "failed"]


@dataclass(frozen=True)
class ReplayOutcome:
    """What happened (or, in a dry run, would happen) to one dead letter."""

    letter: DeadLetter
    action: Action
    target: str | None = None
    reason: str | None = None
    """Why it was skipped or failed."""
    again: bool = False
    """Replayed with ``--offset`` though it had been replayed before."""

    def render(self, *, dry_run: bool = False) -> str:
        where = f"{self.letter.partition}:{self.letter.offset}"
        key = display_bytes(self.letter.key, limit=60)
        if self.action == "replayed":
            verb = "would replay" if dry_run else "replayed"
            again = " (again)" if self.again else ""
            return (
                f"{verb} {where} -> {self.target}{again}  key={key}  {self.letter.value_size} bytes"
            )
        if self.action == "already-replayed":
            return f"already replayed {where} (with --offset)"
        verb = "would skip" if dry_run and self.action == "skipped" else self.action
        return f"{verb} {where}: {self.reason}"


@dataclass
class ReplaySummary:
    service: str
    topic: str
    dry_run: bool = False
    exists: bool = True
    outcomes: list[ReplayOutcome] = field(default_factory=list)

    @property
    def failed(self) -> ReplayOutcome | None:
        return next((o for o in self.outcomes if o.action == "failed"), None)

    @property
    def ok(self) -> bool:
        """Nothing was skipped and nothing failed."""
        skipped = any(outcome.action == "skipped" for outcome in self.outcomes)
        return self.exists and not skipped and self.failed is None

    def render(self) -> str:
        """The counts, the reasons for skipping, and a failure that stopped the replay."""
        if not self.exists:
            return f"{self.topic}: no such topic, nothing to replay"
        actions = Counter(outcome.action for outcome in self.outcomes)
        replayed, skipped, already = (
            actions[a] for a in ("replayed", "skipped", "already-replayed")
        )
        if self.dry_run:
            head = f"{self.topic}: dry run, would replay {replayed}, would skip {skipped}"
        else:
            head = f"{self.topic}: replayed {replayed}, skipped {skipped}"
        if already:
            head += f", {already} already replayed with --offset"
        lines = [head]
        reasons = Counter(o.reason for o in self.outcomes if o.action == "skipped")
        if reasons:
            lines.append("skipped, by reason:")
            lines.extend(f"  {count:5d}  {reason}" for reason, count in reasons.most_common())
        failed = self.failed
        if failed is not None:
            lines.append(
                f"stopped at {failed.letter.partition}:{failed.letter.offset}: {failed.reason}"
                " (nothing after it was replayed; run again to continue)"
            )
        return "\n".join(lines)


async def replay_dead_letters(
    service: str,
    *,
    bootstrap_servers: str,
    topic_prefix: str = "",
    offsets: Sequence[tuple[int, int]] | None = None,
    dry_run: bool = False,
) -> ReplaySummary:
    """Publish dead letters again to the topic they were consumed from.

    ``offsets=None`` replays every dead letter from the replay position to the end
    offsets taken at the start; a list of (partition, offset) replays exactly those and
    leaves the position alone. Progress is committed after every send; the first send
    that fails stops the replay.
    """
    topic = dlq_topic(service, topic_prefix)
    group = replay_group(service, topic_prefix)
    summary = ReplaySummary(service, topic, dry_run=dry_run)
    async with _Kafka(bootstrap_servers, group_id=group) as kafka:
        topics = await kafka.reader.topics()
        if topic not in topics:
            summary.exists = False
            return summary
        partitions = [TopicPartition(topic, p) for p in sorted(topics[topic])]
        progress = await kafka.progress(group, partitions)
        first = await kafka.reader.beginnings(partitions)
        if offsets is None:
            selected = None
            reading = kafka.read(partitions, start="committed")
        else:
            selected = set(offsets)
            wanted: dict[TopicPartition, list[int]] = {}
            for partition, offset in sorted(selected):
                if partition not in topics[topic]:
                    summary.outcomes.append(_missing(topic, partition, offset, "no such partition"))
                    continue
                wanted.setdefault(TopicPartition(topic, partition), []).append(offset)
            reading = kafka.read(
                list(wanted),
                start={tp: min(found) for tp, found in wanted.items()},
                stop={tp: max(found) + 1 for tp, found in wanted.items()},
            )
        seen: set[tuple[int, int]] = set()
        async with aclosing(reading) as records:
            async for record in records:
                if selected is not None and (record.partition, record.offset) not in selected:
                    continue
                seen.add((record.partition, record.offset))
                tp = TopicPartition(topic, record.partition)
                state = progress[tp].state(record.offset)
                letter = DeadLetter.from_record(record, keep_value=True, replay=state)
                outcome = await _replay_one(kafka, letter, topics, selected is None, dry_run)
                summary.outcomes.append(outcome)
                if outcome.action == "failed":
                    break
                if dry_run:
                    continue
                if selected is None:
                    progress[tp].advance(letter.offset, skipped=outcome.action == "skipped")
                elif outcome.action == "replayed":
                    progress[tp].mark_replayed(letter.offset)
                else:
                    continue
                # The position is where --all continues: the first offset until it has run.
                position = progress[tp].position
                await kafka.reader.commit(
                    {tp: (first[tp] if position is None else position, progress[tp].metadata())}
                )
        if selected is not None and summary.failed is None:
            for partition, offset in sorted(selected - seen):
                if partition in topics[topic]:
                    summary.outcomes.append(
                        _missing(topic, partition, offset, "no such offset in the topic")
                    )
    return summary


def _missing(topic: str, partition: int, offset: int, reason: str) -> ReplayOutcome:
    letter = DeadLetter(topic, partition, offset, timestamp=0, key=None, headers=(), value_size=0)
    return ReplayOutcome(letter, "skipped", reason=reason)


async def _replay_one(
    kafka: _Kafka,
    letter: DeadLetter,
    topics: dict[str, set[int]],
    replaying_all: bool,
    dry_run: bool,
) -> ReplayOutcome:
    if replaying_all and letter.replay == "replayed":
        return ReplayOutcome(letter, "already-replayed")
    target = letter.original_topic
    if target is None:
        return ReplayOutcome(letter, "skipped", reason="no x-dlq-original-topic header")
    if target not in topics:
        return ReplayOutcome(
            letter, "skipped", target, reason=f"original topic {target} does not exist"
        )
    if target == letter.topic:
        return ReplayOutcome(
            letter, "skipped", target, reason="original topic is the dead-letter topic"
        )
    again = letter.replay == "replayed"
    if not dry_run:
        try:
            await kafka.send(
                target,
                letter.key,
                letter.value,
                dead_letters.replay_headers(letter.headers, letter.coordinates),
            )
        except (KafkaError, OSError) as exc:
            return ReplayOutcome(letter, "failed", target, reason=f"{type(exc).__name__}: {exc}")
    return ReplayOutcome(letter, "replayed", target, again=again)


# --- Kafka -----------------------------------------------------------------------------


class _Settings(ServiceSettings):
    service_name: ClassVar[str] = "cli-dlq"  # names its Kafka clients


class _Kafka:
    """The clients one command needs: a log reader (with ``group_id``, only to commit replay
    progress) and, once something is sent, an idempotent producer."""

    def __init__(self, bootstrap_servers: str, *, group_id: str | None = None) -> None:
        self.servers = bootstrap_servers
        self.settings = _Settings(kafka_bootstrap_servers=bootstrap_servers)
        self.reader = LogReader(self.settings, group_id=group_id)
        self.producer: AIOKafkaProducer | None = None

    async def __aenter__(self) -> _Kafka:
        try:
            await self.reader.start()
        except (KafkaError, OSError) as exc:
            await self.reader.stop()
            raise DlqError(f"cannot reach Kafka at {self.servers}: {exc}") from exc
        return self

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if self.producer is not None:
            await self.producer.stop()
        await self.reader.stop()
        if isinstance(exc, KafkaError | OSError) and not isinstance(exc, DlqError):
            raise DlqError(f"Kafka at {self.servers}: {type(exc).__name__}: {exc}") from exc

    async def progress(
        self, group: str, partitions: list[TopicPartition]
    ) -> dict[TopicPartition, PartitionProgress]:
        committed = await self.reader.committed(group, partitions)
        never = OffsetAndMetadata(-1, "")
        return {tp: PartitionProgress.parse(*committed.get(tp, never)) for tp in partitions}

    async def read(
        self, partitions: list[TopicPartition], **where: Any
    ) -> AsyncGenerator[ConsumerRecord[Any, Any], None]:
        """The records of ``partitions`` (see LogReader.read), in offset order per partition."""
        reading = self.reader.read(partitions, idle_timeout=_IDLE_TIMEOUT, **where)
        async with aclosing(reading) as batches:
            async for batch in batches:
                for record in batch:
                    yield record

    async def send(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        if self.producer is None:
            self.producer = clients.producer(self.settings, "replay")
            await self.producer.start()
        await self.producer.send_and_wait(topic, value=value, key=key, headers=headers)
