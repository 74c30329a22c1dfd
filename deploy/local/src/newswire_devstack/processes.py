"""Background processes with pid files: start, find, wait until ready, stop.

A pid file alone is not trusted: the process must be alive (not a zombie) and its
command line must contain the component's marker, so a recycled pid is never mistaken
for our broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ProcessManager", "ProcessSpec", "StartError", "resident_bytes"]


class StartError(RuntimeError):
    """A component did not start; the message ends with the tail of its log."""


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one component and how to tell that it is ready."""

    name: str
    argv: list[str]
    ready: Callable[[], Awaitable[bool]]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    ports: tuple[int, ...] = ()
    """Ports the component listens on; they must be free before it starts."""


class ProcessManager:
    """Starts and stops components, with pid files in ``run_dir`` and logs in ``logs_dir``."""

    def __init__(self, run_dir: Path, logs_dir: Path) -> None:
        self.run_dir = run_dir
        self.logs_dir = logs_dir
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def running_pid(self, name: str, marker: str) -> int | None:
        """The pid of the running component, or None (removing a stale pid file)."""
        path = self.pid_file(name)
        try:
            pid = int(path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if _alive(pid) and marker in _cmdline(pid):
            return pid
        path.unlink(missing_ok=True)
        return None

    def start(self, spec: ProcessSpec) -> int:
        """Start the component detached from this process (it outlives us); return its pid."""
        taken = [port for port in spec.ports if _port_in_use(port)]
        if taken:
            raise StartError(
                f"cannot start {spec.name}: port {', '.join(map(str, taken))} is in use by another "
                "process; stop it, or point Newswire elsewhere in the settings"
            )
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file(spec.name).open("ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {spec.name}\n".encode())
            log.flush()
            child = subprocess.Popen(
                spec.argv,
                cwd=spec.cwd,
                env={**os.environ, **spec.env},  # noqa: TID251 - the child inherits our environment
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in our terminal must not reach it directly
            )
        self._children[child.pid] = child
        self.pid_file(spec.name).write_text(f"{child.pid}\n")
        return child.pid

    async def wait_ready(self, spec: ProcessSpec, pid: int, timeout: float) -> None:
        """Poll the readiness probe until it passes; raise StartError if the process dies."""
        deadline = time.monotonic() + timeout
        while True:
            if not _alive(pid):
                self.pid_file(spec.name).unlink(missing_ok=True)
                raise StartError(f"{spec.name} exited during start-up\n{self.log_tail(spec.name)}")
            with contextlib.suppress(Exception):
                if await spec.ready():
                    return
            if time.monotonic() > deadline:
                raise StartError(
                    f"{spec.name} not ready after {timeout:.0f}s\n{self.log_tail(spec.name)}"
                )
            await asyncio.sleep(0.5)

    def stop(self, name: str, marker: str, timeout: float = 30.0) -> bool:
        """SIGTERM the component's process group, SIGKILL it after ``timeout``; True if it ran."""
        pid = self.running_pid(name, marker)
        if pid is None:
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            self._reap(pid)
            time.sleep(0.1)
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
            self._wait_dead(pid)
        self._reap(pid)
        self.pid_file(name).unlink(missing_ok=True)
        return True

    def kill(self, name: str, marker: str) -> bool:
        """SIGKILL the component at once (fault injection); True if it ran."""
        pid = self.running_pid(name, marker)
        if pid is None:
            return False
        _signal_group(pid, signal.SIGKILL)
        self._wait_dead(pid)
        self.pid_file(name).unlink(missing_ok=True)
        return True

    def log_tail(self, name: str, lines: int = 30) -> str:
        try:
            text = self.log_file(name).read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _wait_dead(self, pid: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            self._reap(pid)
            time.sleep(0.05)
        self._reap(pid)

    def _reap(self, pid: int) -> None:
        child = self._children.get(pid)
        if child is not None and child.poll() is not None:
            del self._children[pid]


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def resident_bytes(pid: int) -> int:
    """A process's resident memory now (0 once it is gone), from /proc."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    except PermissionError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
