"""``newswire``: the command-line client of a running Newswire."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from .config import CliSettings
from .submit import submit_paths


def main(argv: list[str] | None = None) -> int:
    settings = CliSettings()
    parser = argparse.ArgumentParser(prog="newswire", description=__doc__)
    parser.add_argument(
        "--gateway", default=settings.gateway_url, help="gateway base URL (NEWSWIRE_GATEWAY_URL)"
    )
    parser.add_argument(
        "--api-key", default=None, help="API key (NEWSWIRE_API_KEY; default: the local stack's)"
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
    args = parser.parse_args(argv)

    if args.command == "submit":
        missing = [p for p in args.paths if not p.exists()]
        if missing:
            parser.error(f"no such file or directory: {', '.join(map(str, missing))}")
        api_key = args.api_key or settings.resolved_api_key()
        if not api_key:
            parser.error("an API key is needed: --api-key or NEWSWIRE_API_KEY")
        summary = asyncio.run(
            submit_paths(
                args.paths,
                gateway_url=args.gateway,
                api_key=api_key,
                concurrency=args.concurrency,
                progress=not args.no_progress and sys.stderr.isatty(),
            )
        )
        print(summary.render())
        return 0 if not summary.rejected else 1
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
