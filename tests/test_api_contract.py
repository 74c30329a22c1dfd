"""The gateway does what its OpenAPI document says: schemathesis against the real pipeline.

Property-based tests generated from ``/openapi.json`` (schemathesis' examples, coverage,
fuzzing and stateful phases, every check on), with a fixed seed and a bounded number of
examples per operation, against the four services as processes on the real broker and
store. It doubles as a robustness smoke: no 5xx, and no response slower than
MAX_RESPONSE_SECONDS (time to the response's head; the event stream is read for
STREAM_READ_SECONDS and then left).

The run submits fuzzed articles and registers fuzzed feeds, so it has a pipeline and a
namespace of its own: nothing it creates reaches the other tests' listings, stories or
feed polling.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema

from conftest import Infrastructure, Namespace, Pipeline, running_pipeline
from tests.httpserver import TestServer
from tests.support import eventually

pytestmark = pytest.mark.contract

SEED = 17
EXAMPLES_PER_OPERATION = 25
STATEFUL_SCENARIOS = 100
MAX_RESPONSE_SECONDS = 2.0
STREAM_READ_SECONDS = 1
REPORT = Path(__file__).parents[1] / "test-results" / "api-contract.json"

# Articles for the run to find through listings and links: one event, three outlets.
STORY = (
    "Lava from the volcano on the island of {place} reached the sea on {day}, the civil "
    "protection agency said, after a week of eruptions that sent ash {km} kilometres into "
    "the sky. Villages near the crater were evacuated and the island's airport was closed."
)
SEEDED = [
    ("Contract Wire", "Stromboli", "Monday", 3),
    ("Contract Herald", "Stromboli", "Monday", 4),
    ("Contract Post", "Stromboli", "Tuesday", 3),
]


@dataclass
class ContractRun:
    """What one schemathesis run did, and what it found."""

    operations: list[str] = field(default_factory=list)
    cases: int = 0
    checks: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    slowest_seconds: float = 0.0
    slowest_request: str = ""
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    stop_reason: str = ""
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def summary(self) -> str:
        return (
            f"API contract (schemathesis {schemathesis.__version__}, seed {SEED}, "
            f"{EXAMPLES_PER_OPERATION} examples per operation): {len(self.operations)} "
            f"operations, {self.cases} generated cases, {self.checks} checks, "
            f"{len(self.failures)} failures, {self.server_errors} 5xx, slowest response "
            f"{self.slowest_seconds:.3f} s ({self.slowest_request}), {self.seconds:.0f} s"
        )


def contract_config(base_url: str, api_key: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "base-url": base_url,
            "seed": SEED,
            "workers": 1,
            "generation": {"max-examples": EXAMPLES_PER_OPERATION},
            "checks": {"enabled": True, "max_response_time": MAX_RESPONSE_SECONDS},
            "auth": {"openapi": {"apiKey": {"bearer": api_key}}},
            "request-timeout": 10,
            "phases": {
                # The document's links, and only those: inference would also link the 202 of
                # a submission to GET /v1/articles/{id}, which answers once the article has
                # been processed, not at once.
                "stateful": {
                    "inference": {"algorithms": []},
                    "generation": {"max-examples": STATEFUL_SCENARIOS},
                },
            },
            # An event stream never ends: read it for a second, then the next case.
            "operations": [{"include-path": "/v1/stream", "request-timeout": STREAM_READ_SECONDS}],
        }
    )


def with_examples(document: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """The document with ``ids`` (by path parameter name) as its path parameters' examples.

    Generated ids name nothing that exists, and links only reach what a listing happens to
    show; with these the examples phase reads, comments on, hides and deletes real things,
    so their 2xx answers are checked against the document too.
    """
    document = copy.deepcopy(document)
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in ids:
                    parameter["example"] = ids[parameter["name"]]
    return document


def run_contract(base_url: str, api_key: str, ids: dict[str, str]) -> ContractRun:
    """Run every phase against the gateway at ``base_url``; what was checked and found."""
    started = time.monotonic()
    document = httpx.get(f"{base_url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(
        with_examples(document, ids), config=contract_config(base_url, api_key)
    )
    run = ContractRun()
    operations: set[str] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            if event.status == Status.SKIP and event.label:
                run.skipped.append(f"{event.phase.value}: {event.label}: {event.skip_reason}")
            _record(run, operations, event.recorder)
        elif isinstance(event, events.NonFatalError):
            run.errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            run.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.Interrupted):
            run.errors.append("interrupted")
        elif isinstance(event, events.EngineFinished):
            run.stop_reason = str(event.stop_reason)
    run.operations = sorted(operations)
    run.seconds = time.monotonic() - started
    return run


def _record(run: ContractRun, operations: set[str], recorder: Any) -> None:
    run.cases += len(recorder.cases)
    operations.update(node.value.operation.label for node in recorder.cases.values())
    for case_id, interaction in recorder.interactions.items():
        response = interaction.response
        if response is None:
            continue
        run.statuses[response.status_code] += 1
        label = recorder.cases[case_id].value.operation.label
        run.by_operation.setdefault(label, Counter())[response.status_code] += 1
        if response.elapsed > run.slowest_seconds:
            run.slowest_seconds = response.elapsed
            run.slowest_request = f"{interaction.request.method} {interaction.request.uri}"[:200]
    for case_id, checks in recorder.checks.items():
        run.checks += len(checks)
        for check in checks:
            if check.status == Status.FAILURE and check.failure_info is not None:
                run.failures.append(_describe(recorder, case_id, check))


def _describe(recorder: Any, case_id: str, check: Any) -> str:
    failure = check.failure_info.failure
    lines = [f"{recorder.label}: {check.name}: {failure.title}", f"  {failure.message}"]
    interaction = recorder.interactions.get(case_id)
    if interaction is not None:
        request = interaction.request
        lines.append(f"  request: {request.method} {request.uri}")
        if request.body:
            lines.append(f"  body: {request.body[:300]!r}")
        if interaction.response is not None:
            response = interaction.response
            lines.append(f"  response: {response.status_code} {response.content[:300]!r}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
async def contract_pipeline(infrastructure: Infrastructure, namespace: Namespace, web: TestServer):  # type: ignore[no-untyped-def]
    # Readers' comments are limited to a few a minute per client; the run is one client that
    # posts hundreds, and the comments it posts are what its links hide and delete.
    faster = {"NEWSWIRE_COMMENT_RATE_PER_MINUTE": "6000", "NEWSWIRE_COMMENT_BURST": "1000"}
    async with running_pipeline(
        infrastructure, Namespace(f"{namespace.name}c"), web, env=faster
    ) as started:
        yield started


def _by_status(statuses: Counter[int]) -> dict[str, int]:
    return {str(status): count for status, count in sorted(statuses.items())}


async def _seed(pipeline: Pipeline) -> dict[str, str]:
    """An article in a story, with a comment, and a feed: real things for the ids to name."""
    async with httpx.AsyncClient(
        base_url=pipeline.gateway_url, headers=pipeline.auth, timeout=15
    ) as client:
        articles = []
        for n, (source, place, day, km) in enumerate(SEEDED):
            body = {
                "url": f"https://news.example/contract/{n}",
                "title": f"Lava from {place} reaches the sea",
                "source": source,
                "text": STORY.format(place=place, day=day, km=km),
                "published_at": f"2026-03-0{n + 2}T08:00:00Z",
            }
            response = await client.post("/v1/articles", json=body)
            assert response.status_code == 202, response.text
            articles.append(response.json()["id"])

        async def in_a_story() -> str | None:
            read = [await client.get(f"/v1/articles/{i}") for i in articles]
            if any(r.status_code != 200 for r in read):
                return None
            return read[0].json()["story_id"]  # type: ignore[no-any-return]

        story = await eventually(in_a_story, timeout=120, what="the seeded articles' story")
        comment = await client.post(
            f"/v1/articles/{articles[0]}/comments", json={"author": "Ann", "body": "Seeded."}
        )
        assert comment.status_code == 201, comment.text
        feed = await client.post("/v1/feeds", json={"url": "https://news.example/contract/rss"})
        assert feed.status_code == 201, feed.text
    return {
        "article_id": articles[0],
        "story_id": story,
        "comment_id": comment.json()["id"],
        "feed_id": feed.json()["id"],
    }


async def test_the_gateway_does_what_its_document_says(
    contract_pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = await _seed(contract_pipeline)
    run = await asyncio.to_thread(
        run_contract, contract_pipeline.gateway_url, contract_pipeline.api_key, ids
    )

    REPORT.parent.mkdir(exist_ok=True)
    report = {
        **asdict(run),
        "statuses": _by_status(run.statuses),
        "by_operation": {label: _by_status(s) for label, s in sorted(run.by_operation.items())},
    }
    REPORT.write_text(json.dumps({"summary": run.summary(), **report}, indent=2))
    with capsys.disabled():
        print(f"\n{run.summary()}")

    assert not run.errors, "\n".join(run.errors)
    assert not run.failures, f"{run.summary()}\n\n" + "\n\n".join(run.failures[:20])
    assert run.server_errors == 0, run.statuses
    assert run.slowest_seconds <= MAX_RESPONSE_SECONDS, run.slowest_request
    async with httpx.AsyncClient(base_url=contract_pipeline.gateway_url) as client:
        document = (await client.get("/openapi.json")).json()
    documented = {
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
    }
    assert set(run.operations) == documented, "every operation was exercised"
    assert run.cases >= EXAMPLES_PER_OPERATION * len(documented) // 2, run.summary()
    unreached = [
        operation
        for operation in documented
        if "{" in operation
        and not any(200 <= status < 400 for status in run.by_operation.get(operation, {}))
    ]
    assert not unreached, f"operations that never reached a real thing: {unreached}"
    assert run.stop_reason == "completed", run.stop_reason
