"""An earlier commit's services beside the current code, so that one run measures both.

The machine is shared and noisy, so a speed-up is quoted as a ratio measured in one run:
the same harness drives the current services and a baseline commit's, checked out in a git
worktree under .local/bench-baseline/ with its own locked environment.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from newswire_devstack.config import repo_root
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["BASELINE", "BaselineSettings", "baseline_python"]

BASELINE = "3b69c39"
"""The commit before the work on throughput (issue 16): its services (and its enricher, for
the quality part) run in the same run, from a git worktree, so that the speed-up is a ratio
measured on one machine at one time. ``NEWSWIRE_BENCH_BASELINE`` names another; ``none``
skips it."""


class BaselineSettings(BaseSettings):
    """What every part that measures the baseline beside the current code reads."""

    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_BENCH_")

    baseline: str = BASELINE
    """The commit measured beside the current code ("none": skip it)."""


def baseline_python(revision: str) -> Path:
    """The interpreter of ``revision``'s environment (a worktree made and synced once)."""
    root = repo_root()
    commit = _git("rev-parse", "--verify", f"{revision}^{{commit}}").strip()
    folder = root / ".local" / "bench-baseline" / commit[:12]
    python = folder / ".venv" / "bin" / "python"
    if python.exists():
        return python
    if not (folder / ".git").exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        _git("worktree", "add", "--detach", "--force", str(folder), commit)
    # The uv the Makefile installed (the bench runs after `make setup`).
    uv = next((root / ".local" / "tools").glob("uv-*/bin/uv"))
    env = {
        **os.environ,  # noqa: TID251 (the child's environment, not configuration)
        "UV_PROJECT_ENVIRONMENT": str(folder / ".venv"),
        "UV_PYTHON_DOWNLOADS": "never",
    }
    subprocess.run(
        [str(uv), "sync", "--locked", "--all-packages", "--no-dev", "--quiet"],
        cwd=folder,
        env=env,
        check=True,
    )
    return python


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo_root(), capture_output=True, text=True, check=True
    ).stdout
