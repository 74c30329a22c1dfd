"""Where benchmark figures go: one JSON file and one Markdown summary per run."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
        "versions": {
            name: version(name)
            for name in ("faststream", "aiokafka", "pymongo", "trafilatura", "feedparser", "httpx")
        },
    }


@dataclass
class Run:
    """Figures of one ``make bench`` run, written as they come in."""

    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return RESULTS / self.started.strftime("%Y%m%dT%H%M%SZ")

    def add(self, part: str, figures: dict[str, Any], table: str) -> None:
        self.parts[part] = figures
        self.tables.append(table)
        self.save()

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        document = {"started": self.started.isoformat(), "machine": machine(), "parts": self.parts}
        (self.folder / "results.json").write_text(
            json.dumps(document, indent=2, default=str) + "\n"
        )
        summary = [f"# Newswire benchmark, {self.started:%Y-%m-%d %H:%M} UTC", "", *self.tables]
        (self.folder / "summary.md").write_text("\n".join(summary) + "\n")
        latest = RESULTS / "latest.md"
        latest.write_text((self.folder / "summary.md").read_text())
