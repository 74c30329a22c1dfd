"""The headless browser the web UI tests drive: Debian's ``chromium`` package.

Playwright's own browser download cannot work here (no access to its CDN), so the tests
launch the distribution's Chromium through ``executable_path``. Installing it needs root.
"""

from __future__ import annotations

from pathlib import Path

from .tools import apt_install

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


def ensure_chromium() -> Path:
    """Install Debian's ``chromium`` (once) unless it is there; return its path."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt_install("chromium", why="the web UI tests drive it")
    if not CHROMIUM.exists():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} does not exist")
    return CHROMIUM
