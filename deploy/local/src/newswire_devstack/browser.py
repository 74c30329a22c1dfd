"""The headless browser the web UI tests drive: Debian's ``chromium`` package.

Playwright's own browser download cannot work here (no access to its CDN), so the tests
launch the distribution's Chromium through ``executable_path``. Installing it needs root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .tools import MissingToolError

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ensure_chromium"]

CHROMIUM = Path("/usr/bin/chromium")
"""Where Debian's ``chromium`` package puts the browser."""

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
"""Headless flags: no sandbox (containers, root), and none of Chromium's own connections,
which this machine's closed network refuses."""

_INSTALL = "apt-get update && apt-get install -y --no-install-recommends chromium"


def ensure_chromium() -> Path:
    """Install Debian's ``chromium`` (once) unless it is there; return its path."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        raise MissingToolError(
            f"{CHROMIUM} is missing and apt-get is not available: install Chromium so that "
            f"{CHROMIUM} exists (the web UI tests drive it)."
        )
    if os.geteuid() != 0:
        raise MissingToolError(
            f"{CHROMIUM} is missing (the web UI tests drive it). Install it as root: "
            f"sudo sh -c '{_INSTALL}'"
        )
    print("newswire-dev: installing Debian's chromium with apt-get ...", flush=True)
    for argv in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
    ):
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},  # noqa: TID251
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed (exit {result.returncode}):\n"
                f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
    if not CHROMIUM.exists():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} does not exist")
    return CHROMIUM
