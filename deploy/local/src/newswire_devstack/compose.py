"""Newswire's compose stack on this machine: an engine, images, then ``docker compose``.

What ``make compose-up`` / ``make compose-down`` run, and what the container test rings
drive. Operators with Docker and registry access need none of it: ``docker compose up``
on compose.yaml is the product; this only makes it run where images must be built here.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .config import DevstackSettings, repo_root
from .engine import ensure_compose, ensure_engine
from .images import compose_images

__all__ = ["STANDINS_FILE", "ComposeError", "ComposeProject", "prepare"]

COMPOSE_FILE = repo_root() / "compose.yaml"
STANDINS_FILE = repo_root() / "deploy" / "images" / "compose.standins.yaml"
CLUSTER_FILE = repo_root() / "compose.cluster.yaml"


class ComposeError(RuntimeError):
    """A docker compose command failed; the message carries what it printed."""


@dataclass
class ComposeProject:
    """One compose project: its files, its name and the variables it is interpolated with."""

    files: list[Path] = field(default_factory=lambda: [COMPOSE_FILE])
    name: str | None = None
    """None: compose.yaml's own name (``newswire``)."""
    env: dict[str, str] = field(default_factory=dict)

    def argv(self, *args: str) -> list[str]:
        argv = ["docker", "compose", "--project-directory", str(repo_root())]
        if self.name:
            argv += ["--project-name", self.name]
        for path in self.files:
            argv += ["--file", str(path)]
        return [*argv, *args]

    def run(
        self, *args: str, timeout: float = 900.0, check: bool = True, echo: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run ``docker compose ARGS``; with ``echo`` its output goes to the terminal."""
        # compose interpolates from its own process environment (and .env beside compose.yaml).
        env = {**os.environ, **self.env}  # noqa: TID251
        result = subprocess.run(
            self.argv(*args),
            env=env,
            capture_output=not echo,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            said = (
                "" if echo else f":\n{(result.stdout or '')[-3000:]}{(result.stderr or '')[-3000:]}"
            )
            raise ComposeError(
                f"docker compose {' '.join(args)} failed (exit {result.returncode}){said}"
            )
        return result

    def published(self, service: str, port: int) -> str:
        """host:port where ``service``'s container ``port`` is published."""
        return self.run("port", service, str(port)).stdout.strip().splitlines()[0]


def prepare(
    settings: DevstackSettings,
    *,
    files: list[Path] | None = None,
    name: str | None = None,
    env: dict[str, str] | None = None,
) -> ComposeProject:
    """An engine that answers, the compose plugins, the images: a project ready to start.

    The project's variables are checked (``compose config``) before any image is built, so a
    missing API key is said at once rather than after minutes of building.
    """
    ensure_engine(settings)
    ensure_compose(settings)
    project = ComposeProject(files=list(files or [COMPOSE_FILE]), name=name, env=dict(env or {}))
    project.run("config", "--quiet")
    images = compose_images(settings)
    project.env.update(images)
    if "MONGODB_IMAGE" in images:
        project.files.append(STANDINS_FILE)
    return project
