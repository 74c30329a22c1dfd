"""Compose projects for the compose ring, driven only from outside the containers.

A test sees what an operator sees: the gateway on its published loopback port, and
``docker compose`` commands. Each project has a name, volumes and network of its own and is
removed with them afterwards.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from newswire_contracts import article_id, canonicalize_url
from newswire_devstack.compose import COMPOSE_FILE, ComposeProject, prepare
from newswire_devstack.config import DevstackSettings

from tests.support import eventually

ROOT = Path(__file__).parents[1]
TEST_FILE = Path(__file__).with_name("compose.test.yaml")
NEWSWIRE_SERVICES = ("ingest", "enrich", "relate", "gateway")
CORPUS = sorted((ROOT / "data" / "news-cluster" / "data").glob("*.json"))


@dataclass
class Deployed:
    """A running compose project, as a client and an operator reach it."""

    project: ComposeProject
    gateway_url: str
    api_key: str
    site: Path
    """The folder the ``web`` container serves at http://web:8000/."""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def compose(self, *args: str, timeout: float = 900.0) -> str:
        return self.project.run(*args, timeout=timeout).stdout

    def backlog(self) -> int | None:
        """Messages the consumer groups have yet to process (None: a partition not started).

        Read as an operator would, with Kafka's own tool in the broker's container.
        """
        out = self.compose(
            "exec",
            "-T",
            "kafka",
            "/opt/kafka/bin/kafka-consumer-groups.sh",
            "--bootstrap-server",
            "localhost:9092",
            "--describe",
            "--all-groups",
        )
        total = 0
        for line in out.splitlines():
            columns = line.split()
            # GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
            if len(columns) < 6 or not columns[2].isdigit():
                continue
            current, end = columns[3], columns[4]
            if current == "-":
                if end not in ("-", "0"):
                    return None
                continue
            total += int(end) - int(current)
        return total

    def service_logs(self) -> dict[str, str]:
        """The end of each container's log (for a failed test's report)."""
        logs = {}
        for service in self.project.run("config", "--services").stdout.split():
            result = self.project.run("logs", "--no-color", "--tail", "60", service, check=False)
            logs[service] = result.stdout + result.stderr
        return logs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def deployed(
    site: Path,
    *,
    extra_files: Sequence[Path] = (),
    scale: dict[str, int] | None = None,
    up_timeout: int = 600,
) -> AsyncIterator[Deployed]:
    """``docker compose up --build --wait`` a project of its own; ``down -v`` at the end."""
    await asyncio.to_thread(site.chmod, 0o755)  # the web container's user reads it
    port = free_port()
    key = secrets.token_urlsafe(24)
    project = await asyncio.to_thread(
        prepare,
        DevstackSettings(),
        files=[COMPOSE_FILE, *extra_files, TEST_FILE],
        name=f"nwtest{uuid.uuid4().hex[:8]}",
        env={
            "NEWSWIRE_API_KEYS": key,
            "NEWSWIRE_GATEWAY_PORT": str(port),
            "NEWSWIRE_TEST_SITE": str(site),
        },
    )
    scaling = [
        arg for name, count in (scale or {}).items() for arg in ("--scale", f"{name}={count}")
    ]
    try:
        await asyncio.to_thread(
            project.run,
            "up",
            "--detach",
            "--build",
            "--wait",
            "--wait-timeout",
            str(up_timeout),
            *scaling,
            timeout=up_timeout + 600,
        )
        yield Deployed(project, f"http://127.0.0.1:{port}", key, site)
    finally:
        await asyncio.to_thread(
            project.run, "down", "--volumes", "--remove-orphans", "--timeout", "5", check=False
        )


@dataclass(frozen=True)
class Submission:
    body: dict[str, Any]
    event: int
    """The labelled event (the corpus's EventId) the article reports."""

    @property
    def id(self) -> str:
        return article_id(canonicalize_url(self.body["url"]))


def corpus_articles(tag: str, count: int, *, offset: int = 0) -> list[Submission]:
    """``count`` distinct dev-corpus articles under URLs of their own (``tag``), event by event,
    so that most of them have others of their event among them."""
    raws = [json.loads(path.read_text()) for path in CORPUS]
    raws = [raw for raw in raws if len(raw.get("text") or "") > 300]
    raws.sort(key=lambda raw: (_event(raw), raw["dId"]))
    chosen = raws[offset : offset + count]
    assert len(chosen) == count, f"the dev corpus has {len(chosen)} long articles from {offset}"
    return [
        Submission(
            {
                "url": f"https://news.example/{tag}/{n}",
                "title": raw["title"],
                "text": raw["text"],
                "published_at": raw["date_publish"].replace(" ", "T") + "+00:00",
                "source": raw.get("source_domain") or "unknown",
            },
            _event(raw),
        )
        for n, raw in enumerate(chosen)
    ]


def _event(raw: dict[str, Any]) -> int:
    return int(raw["newsCluster"]["EventId"])


async def read_model(client: httpx.AsyncClient, ids: Sequence[str]) -> dict[str, Any]:
    """What a client reads of each article: None while it is not readable."""
    found: dict[str, Any] = {}
    for identifier in ids:
        article = await client.get(f"/v1/articles/{identifier}")
        related = await client.get(f"/v1/articles/{identifier}/related")
        if article.status_code != 200 or related.status_code != 200:
            found[identifier] = None
            continue
        body = article.json()
        found[identifier] = {
            "version": body["version"],
            "story_id": body["story_id"],
            "duplicate_of": body["duplicate_of"],
            "entities": [entity["name"] for entity in body["entities"]],
            "keywords": body["keywords"],
            "related": [
                (item["id"], round(item["score"], 4), item["relation"])
                for item in related.json()["items"]
            ],
        }
    return found


async def settled_read_model(
    deployed: Deployed, client: httpx.AsyncClient, ids: Sequence[str], *, timeout: float = 600.0
) -> dict[str, Any]:
    """The read model once every article is readable, no consumer has anything left to do,
    and two reads agree: what a client reads when the pipeline is at rest."""
    last: dict[str, Any] = {}

    async def settled() -> dict[str, Any] | None:
        nonlocal last
        now = await read_model(client, ids)
        backlog = await asyncio.to_thread(deployed.backlog)
        ready = all(now.values()) and backlog == 0 and now == last
        last = now
        waiting = sum(value is None for value in now.values())
        print(
            f"read model: {len(ids) - waiting} of {len(ids)} readable, backlog {backlog}",
            flush=True,
        )
        return now if ready else None

    return await eventually(settled, timeout=timeout, interval=5, what="the read model to settle")


_ONE_ENGINE = """
import asyncio, json, sys
from newswire_contracts import ArticleEnriched
from newswire_relate.config import RelateSettings
from newswire_relate.domain.relator import Relator
from newswire_relate.index_reader import IndexReader

async def main():
    settings = RelateSettings()
    relator = Relator(stories=settings.story_params())
    reader = IndexReader(settings, settings.topic(ArticleEnriched.topic), relator)
    await reader.start()
    try:
        await reader.ready.wait()  # the topic as it was at start, read and placed in stories
    finally:
        await reader.stop()
    print(json.dumps({i: relator.story_id(i) for i in json.loads(sys.argv[1])}))

asyncio.run(main())
"""


def one_engine_stories(deployed: Deployed, ids: Sequence[str]) -> dict[str, str]:
    """Each article's story as one relation engine makes them of the articles this
    deployment enriched, run in a relate container on the project's network."""
    out = deployed.compose(
        "run",
        "--rm",
        "--no-deps",
        "-T",
        "relate",
        "python",
        "-c",
        _ONE_ENGINE,
        json.dumps(list(ids)),
    )
    found: dict[str, str] = json.loads(out.strip().splitlines()[-1])
    return found


async def listed(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(id, url) of every article the listing serves, page after page, repeats kept."""
    found: list[tuple[str, str]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/articles", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found.extend((item["id"], item["url"]) for item in page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return found
