"""`newswire submit` against the running pipeline: progress, summary, reasons, exit code."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from newswire_contracts import article_id, canonicalize_url

from tests.support import eventually

pytestmark = pytest.mark.e2e


async def test_submit_reports_what_was_accepted_and_why_the_rest_was_not(
    pipeline, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    base = f"https://news.example/{pipeline.namespace.name}/cli"
    good = [
        {
            "url": f"{base}/one",
            "title": "One",
            "text": "The first article about the summit in Brussels.",
        },
        {
            "url": f"{base}/two",
            "title": "Two",
            "text": "The second article about the summit in Brussels.",
        },
    ]
    lines = [
        json.dumps(good[0]),
        json.dumps({"url": "ftp://news.example/x", "text": "x"}),
        "{oops",
        json.dumps(good[1]),
    ]
    (tmp_path / "batch.jsonl").write_text("\n".join(lines) + "\n")

    result = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "newswire_cli",
            "--gateway",
            pipeline.gateway_url,
            "--api-key",
            pipeline.api_key,
            "submit",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("accepted 2, rejected 2")
    assert (
        "422 invalid request: body.url: Value error, URL scheme must be http or https"
        in result.stdout
    )
    assert f"{tmp_path / 'batch.jsonl'}:3: not JSON" in result.stdout

    async with httpx.AsyncClient(base_url=pipeline.gateway_url) as client:
        for record in good:
            identifier = article_id(canonicalize_url(record["url"]))

            async def readable(identifier: str = identifier) -> bool:
                return (await client.get(f"/v1/articles/{identifier}")).status_code == 200

            await eventually(readable, what=f"{record['url']} to be served")


async def test_submit_without_a_key_is_a_usage_error(pipeline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.jsonl").write_text('{"url": "https://news.example/a", "text": "a"}\n')
    result = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "newswire_cli",
            "--gateway",
            pipeline.gateway_url,
            "--api-key",
            "wrong",
            "submit",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "accepted 0, rejected 1" in result.stdout
    assert "401 the API key is not valid" in result.stdout
