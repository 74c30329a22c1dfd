"""``newswire-dev``: run the local stack without Docker (what ``make run/up/down/reset`` call)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from .browser import ensure_chromium
from .config import DevstackSettings, repo_root
from .processes import StartError
from .stack import Stack
from .tools import MissingToolError, ensure_ferretdb, ensure_kafka

SAMPLE_CORPUS = repo_root() / "data" / "sample"
# The seed page's main article: the one `make run` waits for and shows.
SAMPLE_ARTICLE_URL = "https://news.example/seed/lavrov-north-korea-visit"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newswire-dev", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    provision = commands.add_parser(
        "provision", help="fetch Kafka and build FerretDB into .local/tools"
    )
    provision.add_argument(
        "--containers",
        action="store_true",
        help="instead: a Docker engine, the compose plugins and the images compose runs",
    )
    up = commands.add_parser("up", help="start whatever part of the stack is not running")
    up.add_argument(
        "components", nargs="*", help="kafka, store, ingest, enrich, relate, gateway (default: all)"
    )
    down = commands.add_parser("down", help="stop the stack, keeping its data")
    down.add_argument("components", nargs="*")
    commands.add_parser("reset", help="stop the stack and delete its data (tools are kept)")
    commands.add_parser("status", help="show what is running")
    commands.add_parser("run", help="up, load the sample corpus, wait for Ctrl-C, then down")
    commands.add_parser("api-key", help="print the gateway API key of the local stack")
    compose = commands.add_parser(
        "compose", help="the compose stack on this machine (what make compose-up/-down run)"
    )
    compose.add_argument("action", choices=["up", "down"])
    schemas_parser = commands.add_parser(
        "schemas", help="regenerate the topics' AsyncAPI document (libs/contracts/...)"
    )
    schemas_parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if the file is out of date"
    )
    args = parser.parse_args(argv)

    # Probing a broker that is still starting makes aiokafka log every refused connection.
    logging.basicConfig(level=logging.WARNING, format="newswire-dev: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    settings = DevstackSettings()
    stack = Stack(settings)
    try:
        if args.command == "provision" and args.containers:
            _provision_containers(settings)
        elif args.command == "provision":
            print(ensure_kafka(settings))
            print(ensure_ferretdb(settings))
            print(ensure_chromium())
        elif args.command == "up":
            asyncio.run(stack.up(args.components or None))
            _print_status(stack)
        elif args.command == "down":
            stack.down(args.components or None)
        elif args.command == "reset":
            stack.reset()
            print(f"newswire-dev: deleted {settings.data_dir}")
        elif args.command == "status":
            _print_status(stack)
        elif args.command == "api-key":
            print(stack.api_key())
        elif args.command == "run":
            return _run_foreground(stack)
        elif args.command == "schemas":
            return _schemas(check=args.check)
        elif args.command == "compose":
            return _compose_up(settings) if args.action == "up" else _compose_down()
    except (MissingToolError, StartError, ValueError, RuntimeError) as exc:
        print(f"newswire-dev: {exc}", file=sys.stderr)
        return 1
    return 0


def _schemas(*, check: bool) -> int:
    from . import schemas

    shown = schemas.ASYNCAPI_PATH.relative_to(repo_root())
    if check:
        problems = schemas.check()
        if not problems:
            print(f"newswire-dev: {shown} is up to date")
            return 0
        print(f"newswire-dev: {problems[0]}", *problems[1:], sep="\n", file=sys.stderr)
        return 1
    changed = schemas.write()
    print(f"newswire-dev: {'wrote' if changed else 'unchanged:'} {shown}")
    return 0


def _provision_containers(settings: DevstackSettings) -> None:
    from .engine import ensure_compose, ensure_engine
    from .images import compose_images

    ensure_engine(settings)
    ensure_compose(settings)
    standins = compose_images(settings)
    for variable, image in sorted(standins.items()):
        print(f"newswire-dev: {variable}={image} (stand-in)")
    if not standins:
        print("newswire-dev: the official images can be pulled; no stand-ins needed")


def _compose_up(settings: DevstackSettings) -> int:
    from .compose import prepare

    project = prepare(settings)
    print("newswire-dev: docker compose up (building the service image the first time) ...")
    project.run("up", "--detach", "--build", "--wait", "--wait-timeout", "600", echo=True)
    gateway = project.published("gateway", 8080)
    print()
    print(f"  Gateway      http://{gateway}")
    print(f"  API docs     http://{gateway}/docs")
    print("  API keys     NEWSWIRE_API_KEYS (from .env or the environment)")
    print("  Logs         docker compose logs -f")
    print("  Stop         make compose-down (the data stays in the compose volumes)")
    return 0


def _compose_down() -> int:
    from .compose import ComposeProject

    # compose reads the whole file even to stop it; the key is not used for that.
    ComposeProject(env={"NEWSWIRE_API_KEYS": "unused-to-stop"}).run("down", echo=True)
    return 0


def _print_status(stack: Stack) -> None:
    for status in stack.status():
        print(status.describe())


def _run_foreground(stack: Stack) -> int:
    from newswire_cli.submit import submit_paths, wait_for_article

    stop = asyncio.Event()

    async def session() -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stack.up()
            gateway = f"http://127.0.0.1:{stack.settings.gateway_port}"
            key = stack.api_key()
            print(
                f"newswire-dev: loading the sample corpus from {SAMPLE_CORPUS.relative_to(repo_root())}"
            )
            summary = await submit_paths([SAMPLE_CORPUS], gateway_url=gateway, api_key=key)
            print(summary.render())
            sample = await wait_for_article(gateway, SAMPLE_ARTICLE_URL, timeout=120.0)
            print()
            print(f"  Gateway      {gateway}")
            print(f"  API key      {key}")
            print(f"  Sample       {gateway}/v1/articles/{sample}")
            print(f"  API docs     {gateway}/docs")
            print(f"  Logs         {Path(stack.settings.logs_dir)}")
            print("\nNewswire is running. Press Ctrl-C to stop it.", flush=True)
            await stop.wait()
            return 0
        finally:
            print("\nnewswire-dev: stopping ...", flush=True)
            stack.down()

    try:
        return asyncio.run(session())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
