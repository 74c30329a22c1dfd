"""``newswire``: the command-line client of a running Newswire."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import CliSettings
from .dlq import (
    SERVICES,
    DlqError,
    DlqListing,
    ReplaySummary,
    format_letter,
    list_dead_letters,
    parse_offset,
    replay_dead_letters,
)
from .feeds import Feed, add_feed, import_feeds, list_feeds, remove_feed
from .gateway import GatewayError
from .opml import OpmlError, read_opml, write_opml
from .submit import submit_paths


def main(argv: list[str] | None = None) -> int:
    settings = CliSettings()
    parser = _parser(settings)
    args = parser.parse_args(argv)
    if args.command == "submit":
        missing = [p for p in args.paths if not p.exists()]
        if missing:
            parser.error(f"no such file or directory: {', '.join(map(str, missing))}")
    if args.command == "dlq":
        unknown = [s for s in getattr(args, "services", ()) if s not in SERVICES]
        if unknown:
            parser.error(f"unknown service {unknown[0]!r} (choose from {', '.join(SERVICES)})")
        # Our own message says why Kafka could not be reached; aiokafka's logs repeat it.
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    if args.writes:
        args.api_key = args.api_key or settings.resolved_api_key()
        if not args.api_key:
            parser.error("an API key is needed: --api-key or NEWSWIRE_API_KEY")
    try:
        return int(args.run(args))
    except (GatewayError, DlqError) as exc:
        print(f"{args.prog}: {exc}", file=sys.stderr)
        return 1


def _parser(settings: CliSettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newswire", description=__doc__)
    parser.add_argument(
        "--gateway", default=settings.gateway_url, help="gateway base URL (NEWSWIRE_GATEWAY_URL)"
    )
    parser.add_argument(
        "--api-key", default=None, help="API key (NEWSWIRE_API_KEY; default: the local stack's)"
    )
    parser.add_argument(
        "--bootstrap",
        default=settings.kafka_bootstrap_servers,
        metavar="HOST:PORT[,...]",
        help="Kafka brokers, for dlq (KAFKA_BOOTSTRAP_SERVERS)",
    )
    parser.add_argument(
        "--topic-prefix",
        default=settings.topic_prefix,
        metavar="PREFIX",
        help="the deployment's topic prefix, for dlq (NEWSWIRE_TOPIC_PREFIX)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser(
        "submit",
        help="post articles from .jsonl/.json files or directories",
        description="Post every article record found to POST /v1/articles and summarise the outcome.",
    )
    submit.add_argument("paths", nargs="+", type=Path, metavar="FILE.jsonl|DIR")
    submit.add_argument("--concurrency", type=int, default=8)
    submit.add_argument("--no-progress", action="store_true")
    _runs(submit, _submit, writes=True)

    feeds = commands.add_parser(
        "feeds",
        help="register, list and remove the feeds ingest polls; OPML import and export",
        description="Manage the feeds ingest polls (/v1/feeds).",
    )
    actions = feeds.add_subparsers(dest="action", required=True)
    import_ = actions.add_parser(
        "import",
        help="register every feed of an OPML file",
        description="Register every outline with an xmlUrl (at any depth) and summarise the "
        "outcome; exit 1 if the gateway rejected any, 2 if the file is not usable OPML.",
    )
    import_.add_argument("file", type=Path, metavar="FILE.opml")
    import_.add_argument("--concurrency", type=int, default=8)
    import_.add_argument("--no-progress", action="store_true")
    _runs(import_, _feeds_import, writes=True)
    export = actions.add_parser(
        "export",
        help="write the registered feeds as OPML 2.0",
        description="Write every registered feed as an OPML 2.0 document.",
    )
    export.add_argument(
        "file", nargs="?", type=Path, metavar="FILE", help="where to write (default: stdout)"
    )
    _runs(export, _feeds_export)
    listing = actions.add_parser(
        "list",
        help="the registered feeds and how polling them goes",
        description="A table of the registered feeds, oldest first; --json for the raw items.",
    )
    listing.add_argument("--json", action="store_true", help="print the gateway's items as JSON")
    _runs(listing, _feeds_list)
    add = actions.add_parser(
        "add", help="register one feed", description="Register a feed, or update its title."
    )
    add.add_argument("url", metavar="URL")
    add.add_argument("--title", help="a name for it (default: the feed's own)")
    add.add_argument(
        "--interval",
        type=int,
        metavar="SECONDS",
        help="fixed poll interval, 60 to 604800 (default: adapts to the feed)",
    )
    _runs(add, _feeds_add, writes=True)
    remove = actions.add_parser(
        "remove", help="stop polling feeds", description="Stop polling feeds and forget them."
    )
    remove.add_argument("ids", nargs="+", metavar="ID")
    _runs(remove, _feeds_remove, writes=True)
    _dlq_parser(commands)
    return parser


def _dlq_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dlq = commands.add_parser(
        "dlq",
        help="inspect the messages the services dead-lettered, and replay them",
        description="Each consuming service dead-letters what it cannot process to its own "
        "topic (<prefix><service>.dlq), with why in x-dlq-* headers. Needs Kafka: --bootstrap.",
    )
    actions = dlq.add_subparsers(dest="action", required=True)
    listing = actions.add_parser(
        "list",
        help="one line per dead letter",
        description="Read the dead-letter topics from the beginning to their current end and "
        "print one line per dead letter: PARTITION:OFFSET in the topic, failed at, service, "
        "attempts, original topic PARTITION:OFFSET, key, whether it was replayed, the error.",
    )
    listing.add_argument(
        "services",
        nargs="*",
        metavar="SERVICE",
        help=f"whose dead letters ({', '.join(SERVICES)}; default: all)",
    )
    listing.add_argument(
        "--limit",
        type=_positive,
        metavar="N",
        help="only the N most recent dead letters of each topic",
    )
    listing.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line, headers included (bytes that are not UTF-8 as "
        '{"base64": ...}); notes about empty or missing topics go to stderr',
    )
    _runs(listing, _dlq_list)
    replay = actions.add_parser(
        "replay",
        help="publish dead letters again to the topic they came from",
        description="Publish dead letters again to their original topic (x-dlq-original-topic) "
        "with their key, value and headers, minus the x-dlq-* ones, plus x-dlq-replayed-from. "
        "--all replays from where the last --all stopped (kept in the consumer group "
        "<prefix>newswire-dlq-replay-<service>) to the end, so running it twice sends nothing "
        "twice; --offset replays exactly the dead letters named and does not move that "
        "position (but --all will not send them again). Exit 1 if any was skipped or failed.",
    )
    replay.add_argument("service", choices=list(SERVICES), metavar="SERVICE")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--offset",
        dest="offsets",
        action="append",
        type=_offset,
        metavar="PARTITION:OFFSET",
        help="a dead letter by its place in the dead-letter topic (repeatable)",
    )
    which.add_argument("--all", action="store_true", help="every dead letter not yet replayed")
    replay.add_argument(
        "--dry-run", action="store_true", help="print what would be sent; send nothing"
    )
    _runs(replay, _dlq_replay)


def _runs(
    parser: argparse.ArgumentParser,
    run: Callable[[argparse.Namespace], int],
    *,
    writes: bool = False,
) -> None:
    """What the command runs; ``writes``: it needs an API key."""
    parser.set_defaults(run=run, writes=writes, prog=parser.prog)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _offset(text: str) -> tuple[int, int]:
    try:
        return parse_offset(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _submit(args: argparse.Namespace) -> int:
    return _post_all(args, submit_paths, args.paths)


def _post_all(args: argparse.Namespace, post: Callable[..., Awaitable[Any]], items: Any) -> int:
    """Post many things at once (submit, feeds import); print the summary."""
    summary = asyncio.run(
        post(
            items,
            gateway_url=args.gateway,
            api_key=args.api_key,
            concurrency=args.concurrency,
            progress=not args.no_progress and sys.stderr.isatty(),
        )
    )
    print(summary.render())
    return 0 if not summary.rejected else 1


def _feeds_import(args: argparse.Namespace) -> int:
    try:
        feeds = read_opml(args.file.read_bytes())
    except (OSError, OpmlError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        print(f"newswire feeds import: {args.file}: {reason}", file=sys.stderr)
        return 2
    if not feeds:
        print(f"newswire feeds import: {args.file} lists no feeds (no xmlUrl)", file=sys.stderr)
    return _post_all(args, import_feeds, feeds)


def _feeds_export(args: argparse.Namespace) -> int:
    feeds = asyncio.run(list_feeds(gateway_url=args.gateway, api_key=args.api_key))
    document = write_opml(feed.as_opml() for feed in feeds)
    if args.file is None or str(args.file) == "-":
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
    else:
        args.file.write_bytes(document)
        print(f"exported {len(feeds)} feeds to {args.file}", file=sys.stderr)
    return 0


def _feeds_list(args: argparse.Namespace) -> int:
    feeds = asyncio.run(list_feeds(gateway_url=args.gateway, api_key=args.api_key))
    if args.json:
        print(json.dumps([feed.raw for feed in feeds], indent=2, ensure_ascii=False))
    else:
        print(_feed_table(feeds))
    return 0


def _feeds_add(args: argparse.Namespace) -> int:
    feed, created = asyncio.run(
        add_feed(
            args.url,
            gateway_url=args.gateway,
            api_key=args.api_key,
            title=args.title,
            interval=args.interval,
        )
    )
    print(f"{feed.id} {feed.url} ({'new' if created else 'already there, updated'})")
    return 0


def _feeds_remove(args: argparse.Namespace) -> int:
    failed = 0
    for identifier in args.ids:
        try:
            asyncio.run(remove_feed(identifier, gateway_url=args.gateway, api_key=args.api_key))
        except GatewayError as exc:
            print(f"newswire feeds remove: {identifier}: {exc.reason}", file=sys.stderr)
            failed += 1
        else:
            print(f"removed {identifier}")
    return 0 if not failed else 1


def _dlq_list(args: argparse.Namespace) -> int:
    listings: list[DlqListing] = asyncio.run(
        list_dead_letters(
            list(dict.fromkeys(args.services)) or list(SERVICES),
            bootstrap_servers=args.bootstrap,
            topic_prefix=args.topic_prefix,
            limit=args.limit,
        )
    )
    for listing in listings:
        if args.json:
            if not listing.letters:
                print(listing.heading(), file=sys.stderr)
            for letter in listing.letters:
                print(json.dumps(letter.as_json(), ensure_ascii=False))
            continue
        print(listing.heading())
        for letter in listing.letters:
            print(f"  {format_letter(letter)}")
    return 0


def _dlq_replay(args: argparse.Namespace) -> int:
    summary: ReplaySummary = asyncio.run(
        replay_dead_letters(
            args.service,
            bootstrap_servers=args.bootstrap,
            topic_prefix=args.topic_prefix,
            offsets=None if args.all else args.offsets,
            dry_run=args.dry_run,
        )
    )
    for outcome in summary.outcomes:
        print(outcome.render(dry_run=summary.dry_run))
    print(summary.render())
    return 0 if summary.ok or (not summary.exists and args.all) else 1


_COLUMNS = ("ID", "STATE", "LAST FETCH", "STATUS", "ENTRIES", "ARTICLES", "URL")
_NUMERIC = {"STATUS", "ENTRIES", "ARTICLES"}


def _feed_table(feeds: list[Feed]) -> str:
    """One row per feed, the last error under failing ones, and a count by state."""
    if not feeds:
        return "no feeds registered"
    rows = [
        (
            feed.id,
            feed.status.state,
            _when(feed.status.last_fetch_at),
            str(feed.status.last_status) if feed.status.last_status is not None else "-",
            str(feed.status.entries_seen),
            str(feed.status.articles_published),
            feed.url,
        )
        for feed in feeds
    ]
    widths = [max(len(row[i]) for row in [_COLUMNS, *rows]) for i in range(len(_COLUMNS) - 1)]

    def line(cells: tuple[str, ...]) -> str:
        padded = [
            cell.rjust(width) if name in _NUMERIC else cell.ljust(width)
            for name, cell, width in zip(_COLUMNS, cells, widths, strict=False)
        ]
        return "  ".join([*padded, cells[-1]])

    lines = [line(_COLUMNS)]
    for feed, row in zip(feeds, rows, strict=True):
        lines.append(line(row))
        if feed.status.state == "failing" and feed.status.last_error:
            lines.append(
                f"  last error ({feed.status.error_count} failed polls): {feed.status.last_error}"
            )
    states = Counter(feed.status.state for feed in feeds)
    lines.append(
        f"{len(feeds)} feeds: {states['ok']} ok, {states['failing']} failing, "
        f"{states['pending']} pending"
    )
    return "\n".join(lines)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "-"
