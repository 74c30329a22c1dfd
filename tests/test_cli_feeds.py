"""`newswire feeds` against the running pipeline: OPML import and export, list, add, remove."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from newswire_cli.opml import read_opml
from newswire_contracts import canonicalize_url, feed_id

from tests.httpserver import Handler, TestServer
from tests.support import eventually

pytestmark = pytest.mark.e2e

REJECTED_FTP = (
    "422 invalid request: body.url: Value error, URL scheme must be http or https, not 'ftp'"
)


def rss(title: str, site: str) -> bytes:
    """A tiny valid RSS 2.0 document with one item."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>{site}</link><description>Test</description>"
        f"<item><title>{title}: first</title><link>{site}first</link>"
        f"<guid>{site}first</guid><description>The first item.</description></item>"
        "</channel></rss>"
    ).encode()


def serve(web: TestServer, path: str, body: bytes) -> None:
    def handler(request: Handler) -> None:
        request.reply(200, body, {"Content-Type": "application/rss+xml"})

    web.route(path)(handler)


async def newswire(pipeline: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "newswire_cli",
            "--gateway",
            pipeline.gateway_url,
            "--api-key",
            pipeline.api_key,
            "feeds",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_opml_import_export_list_and_remove(
    pipeline,
    web: TestServer,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    base = f"/{pipeline.namespace.name}/cli-feeds"
    # The site pages are never fetched: they only end up as htmlUrl in the export.
    sites = {name: web.url(f"{base}/{name}/") for name in ("alpha", "beta")}
    urls = {name: web.url(f"{base}/{name}.xml") for name in ("alpha", "beta")}
    for name in urls:
        serve(web, f"{base}/{name}.xml", rss(f"The {name.title()} Wire", sites[name]))
    ids = {name: feed_id(canonicalize_url(url)) for name, url in urls.items()}
    opml = tmp_path / "subscriptions.opml"
    opml.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Test subscriptions</title></head>
  <body>
    <outline text="News &amp; views">
      <outline type="rss" text="Alpha &lt;A&gt;" xmlUrl="{urls["alpha"]}"/>
      <outline type="rss" title="Beta" text="ignored" xmlUrl="{urls["beta"]}"/>
    </outline>
    <outline type="rss" text="Alpha again" xmlUrl="{urls["alpha"]}"/>
    <outline type="rss" text="Not HTTP" xmlUrl="ftp://x"/>
  </body>
</opml>
""",
        encoding="utf-8",
    )

    first = await newswire(pipeline, "import", str(opml))
    assert first.returncode == 1, first.stderr
    assert first.stdout == (
        "registered 2 (new 2, already there 0), rejected 1\n"
        "rejected, by reason:\n"
        f"      1  {REJECTED_FTP}\n"
        "first rejected feeds:\n"
        f"  ftp://x: {REJECTED_FTP}\n"
    )
    again = await newswire(pipeline, "import", str(opml))
    assert again.returncode == 1, again.stderr
    assert again.stdout.startswith("registered 2 (new 0, already there 2), rejected 1\n")

    async with httpx.AsyncClient(base_url=pipeline.gateway_url, timeout=10) as client:
        alpha = (await client.get(f"/v1/feeds/{ids['alpha']}")).json()
        assert alpha["title"] == "Alpha <A>"
        assert (await client.get(f"/v1/feeds/{ids['beta']}")).json()["title"] == "Beta"

        async def polled() -> bool:
            states = [
                (await client.get(f"/v1/feeds/{identifier}")).json()["status"]
                for identifier in ids.values()
            ]
            return all(s["state"] == "ok" and s["site_url"] for s in states)

        await eventually(polled, what="both feeds to be polled")

        exported = await newswire(pipeline, "export")
        assert exported.returncode == 0, exported.stderr
        by_url = {feed.url: feed for feed in read_opml(exported.stdout.encode())}
        assert by_url[urls["alpha"]].title == "Alpha <A>"
        assert by_url[urls["alpha"]].html_url == sites["alpha"]
        assert by_url[urls["beta"]].title == "Beta"
        assert "ftp://x" not in by_url
        written = tmp_path / "export.opml"
        to_file = await newswire(pipeline, "export", str(written))
        assert to_file.returncode == 0, to_file.stderr
        assert {urls["alpha"], urls["beta"]} <= {f.url for f in read_opml(written.read_bytes())}

        listed = await newswire(pipeline, "list", "--json")
        assert listed.returncode == 0, listed.stderr
        items = {item["id"]: item for item in json.loads(listed.stdout)}
        assert items[ids["alpha"]]["url"] == urls["alpha"]
        assert items[ids["beta"]]["status"]["state"] == "ok"
        table = await newswire(pipeline, "list")
        assert table.returncode == 0, table.stderr
        header, *rows = table.stdout.splitlines()
        assert header.split() == [
            "ID",
            "STATE",
            "LAST",
            "FETCH",
            "STATUS",
            "ENTRIES",
            "ARTICLES",
            "URL",
        ]
        [beta_row] = [row for row in rows if row.startswith(ids["beta"])]
        identifier, state, last_fetch, status, entries, _articles, url = beta_row.split()
        assert (identifier, state, status, url) == (ids["beta"], "ok", "200", urls["beta"])
        assert last_fetch.endswith("Z")
        assert int(entries) >= 1

        removed = await newswire(pipeline, "remove", ids["alpha"])
        assert removed.returncode == 0, removed.stderr
        assert removed.stdout == f"removed {ids['alpha']}\n"
        assert (await client.get(f"/v1/feeds/{ids['alpha']}")).status_code == 404
        gone = await newswire(pipeline, "remove", ids["alpha"])
        assert gone.returncode == 1
        assert gone.stderr == f"newswire feeds remove: {ids['alpha']}: 404 no feed {ids['alpha']}\n"

        # add and remove, the thin wrappers
        added = await newswire(pipeline, "add", urls["alpha"], "--title", "A", "--interval", "60")
        assert added.returncode == 0, added.stderr
        assert added.stdout == f"{ids['alpha']} {urls['alpha']} (new)\n"
        feed = (await client.get(f"/v1/feeds/{ids['alpha']}")).json()
        assert (feed["title"], feed["poll_interval_seconds"]) == ("A", 60)
        updated = await newswire(pipeline, "add", urls["alpha"], "--title", "A2")
        assert updated.stdout == f"{ids['alpha']} {urls['alpha']} (already there, updated)\n"
        refused = await newswire(pipeline, "add", urls["alpha"], "--interval", "5")
        assert refused.returncode == 1
        assert refused.stderr.startswith("newswire feeds add: 422 invalid request: ")

        cleanup = await newswire(pipeline, "remove", ids["alpha"], ids["beta"])
        assert cleanup.returncode == 0, cleanup.stderr
        for identifier in ids.values():
            assert (await client.get(f"/v1/feeds/{identifier}")).status_code == 404


async def test_an_unusable_opml_file_is_reported_without_registering_anything(
    pipeline,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    not_opml = tmp_path / "feed.xml"
    not_opml.write_text('<rss version="2.0"><channel><title>T</title></channel></rss>')
    result = await newswire(pipeline, "import", str(not_opml))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"newswire feeds import: {not_opml}: "
        "not an OPML document: the root element is <rss>, not <opml>\n"
    )
    missing = await newswire(pipeline, "import", str(tmp_path / "missing.opml"))
    assert missing.returncode == 2
    assert missing.stderr == (
        f"newswire feeds import: {tmp_path / 'missing.opml'}: No such file or directory\n"
    )
