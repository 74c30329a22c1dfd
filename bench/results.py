"""Where benchmark figures go: one JSON file and one Markdown summary per run."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from newswire_devstack.config import DevstackSettings

from . import plots

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
            for name in (
                "faststream",
                "aiokafka",
                "pymongo",
                "trafilatura",
                "feedparser",
                "httpx",
                "spacy",
                "fastapi",
            )
        },
        "servers": {"kafka": _setting("kafka_version"), "store": _setting("ferretdb_version")},
        "environment": overridden(),
    }


def overridden() -> dict[str, str]:
    """Settings the run was given through the environment (the services started by the bench
    read them too; a baseline's services read those they know)."""
    environment = os.environ  # noqa: TID251 (recorded, not read as configuration)
    return {k: v for k, v in sorted(environment.items()) if k.startswith("NEWSWIRE_")}


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
        """Write the run's folder, and copy it to ``latest.*`` (the copies are committed)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        about = machine()
        document = {"started": self.started.isoformat(), "machine": about, "parts": self.parts}
        (self.folder / "results.json").write_text(
            json.dumps(document, indent=2, default=str) + "\n"
        )
        drawn = plots.draw(self.parts, self.folder)
        header = [
            f"# Newswire benchmark, {self.started:%Y-%m-%d %H:%M} UTC",
            "",
            f"{about['cores']} cores, Python {about['python']}, Kafka {about['servers']['kafka']}, "
            f"FerretDB {about['servers']['store']}, commit {about['commit'] or '?'}. "
            "Every figure below was measured on this machine in this run; full figures in "
            "`results.json`.",
            "",
        ]
        if about["environment"]:
            given = ", ".join(f"`{k}={v}`" for k, v in about["environment"].items())
            header += [f"Settings given through the environment: {given}.", ""]
        figures = [f"![{caption}]({{prefix}}{name})\n" for name, caption in drawn]
        summary = "\n".join([*header, *self.tables, *figures]) + "\n"
        (self.folder / "summary.md").write_text(summary.replace("{prefix}", ""))
        (RESULTS / "latest.md").write_text(summary.replace("{prefix}", "latest-"))
        (RESULTS / "latest.json").write_text((self.folder / "results.json").read_text())
        for name, _ in drawn:
            shutil.copyfile(self.folder / name, RESULTS / f"latest-{name}")


def _setting(name: str) -> str:
    return str(getattr(DevstackSettings(), name, "?"))
