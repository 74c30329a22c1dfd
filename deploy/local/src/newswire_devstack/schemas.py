"""``newswire-dev schemas``: the topics' AsyncAPI document, generated from the services.

Services never import each other, so the gateway cannot build the others' FastStream apps
to document their topics; this package runs every service, so it can. It builds each
service's app with default settings (building connects to nothing), merges their
FastStream specifications (newswire_platform.asyncapi) and writes the result into the
contracts package, where it is committed, reviewed as a diff and served by the gateway at
``GET /asyncapi``.
"""

from __future__ import annotations

import difflib
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .config import repo_root

__all__ = ["ASYNCAPI_PATH", "build_asyncapi", "check", "render_asyncapi", "write"]

ASYNCAPI_PATH = repo_root() / "libs/contracts/src/newswire_contracts/asyncapi.json"


def build_asyncapi() -> dict[str, Any]:
    """The document, from freshly built apps of the four services."""
    from newswire_contracts.events import EVENT_TYPES
    from newswire_enrich.config import EnrichSettings
    from newswire_enrich.main import build_app as build_enrich
    from newswire_gateway.config import GatewaySettings
    from newswire_gateway.main import create_app as create_gateway
    from newswire_ingest.config import IngestSettings
    from newswire_ingest.main import build_app as build_ingest
    from newswire_platform.asyncapi import newswire_asyncapi
    from newswire_relate.config import RelateSettings
    from newswire_relate.main import build_app as build_relate
    from newswire_relate.refresh import RelateRefresh

    # Contract names: whatever prefix this shell's environment sets does not belong here.
    brokers = {
        IngestSettings.service_name: build_ingest(IngestSettings(topic_prefix="")).broker,
        EnrichSettings.service_name: build_enrich(EnrichSettings(topic_prefix="")).broker,
        RelateSettings.service_name: build_relate(RelateSettings(topic_prefix="")).broker,
        GatewaySettings.service_name: create_gateway(
            GatewaySettings(topic_prefix="")
        ).state.gateway.broker,
    }
    models = [*EVENT_TYPES.values(), RelateRefresh]
    return newswire_asyncapi(
        brokers,
        event_types={model.topic: model.event_type for model in models},
        version=version("newswire-contracts"),
    )


def render_asyncapi() -> str:
    """The document's text, exactly as committed."""
    from newswire_platform.asyncapi import render

    return render(build_asyncapi())


def write(path: Path = ASYNCAPI_PATH) -> bool:
    """Regenerate the file; whether it changed."""
    text = render_asyncapi()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def check(path: Path = ASYNCAPI_PATH, *, context_lines: int = 40) -> list[str]:
    """What is out of date in the committed file: a summary and the start of the diff.

    Empty when the file is what the code generates.
    """
    text = render_asyncapi()
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    if committed == text:
        return []
    shown = _relative(path)
    diff = list(
        difflib.unified_diff(
            committed.splitlines(),
            text.splitlines(),
            fromfile=f"{shown} (committed)",
            tofile=f"{shown} (generated)",
            lineterm="",
        )
    )
    added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
    summary = [
        f"{shown} is out of date: {added} line(s) to add, {removed} to remove; "
        "run `make schemas` and commit the result."
    ]
    if len(diff) > context_lines:
        return [*summary, *diff[:context_lines], f"... {len(diff) - context_lines} more lines"]
    return [*summary, *diff]


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(repo_root()))
    except ValueError:
        return str(path)
