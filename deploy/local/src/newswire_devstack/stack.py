"""The local stack as a whole: bring up what is missing, stop everything, wipe data."""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from .components import INFRASTRUCTURE, SERVICES, infrastructure_spec, service_spec
from .config import DevstackSettings
from .processes import ProcessManager, ProcessSpec

__all__ = ["ComponentStatus", "Stack"]

# Stopped in reverse: services first, so none of them sees its broker vanish mid-message.
ORDER = (*INFRASTRUCTURE, *SERVICES)
_MARKERS = {"kafka": "kafka.Kafka", "store": "ferretdb"}


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    external: bool = False

    def describe(self) -> str:
        if self.external:
            return f"{self.name:8} external"
        return f"{self.name:8} {'running, pid ' + str(self.pid) if self.pid else 'stopped'}"


class Stack:
    """Kafka, the store and the four services under one ``.local`` directory."""

    def __init__(
        self,
        settings: DevstackSettings,
        *,
        service_env: Mapping[str, str] | None = None,
        processes: ProcessManager | None = None,
        python: Path | None = None,
    ) -> None:
        self.settings = settings
        self.service_env = dict(service_env or {})
        self.python = python
        """The services' interpreter, when they come from another checkout."""
        self.processes = processes or ProcessManager(settings.run_dir, settings.logs_dir)

    def api_key(self) -> str:
        """The first configured key, or one generated once and kept in ``.local/run/api-key``."""
        if self.settings.api_keys:
            return self.settings.api_keys[0]
        path = self.settings.run_dir / "api-key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(f"nw_{secrets.token_urlsafe(24)}")  # never starts with "-"
        return path.read_text().strip()

    def components(self, only: Iterable[str] | None = None) -> list[str]:
        wanted = set(only) if only else set(ORDER)
        unknown = wanted - set(ORDER)
        if unknown:
            raise ValueError(
                f"unknown components: {', '.join(sorted(unknown))}; known: {', '.join(ORDER)}"
            )
        return [name for name in ORDER if name in wanted and not self.is_external(name)]

    def is_external(self, name: str) -> bool:
        return (name == "kafka" and self.settings.kafka_is_external) or (
            name == "store" and self.settings.store_is_external
        )

    def marker(self, name: str) -> str:
        return _MARKERS.get(name, f"newswire_{name}")

    def spec(self, name: str) -> ProcessSpec:
        if name in INFRASTRUCTURE:
            return infrastructure_spec(name, self.settings)
        settings = self.settings
        if name == "gateway" and not settings.api_keys:
            settings = settings.model_copy(update={"api_keys": [self.api_key()]})
        return service_spec(name, settings, self.service_env, self.python)

    async def up(self, only: Iterable[str] | None = None, *, echo: bool = True) -> list[str]:
        """Start, in dependency order, each component that is not running; return those started."""
        started = []
        for name in self.components(only):
            if self.processes.running_pid(name, self.marker(name)):
                continue
            spec = self.spec(name)
            pid = self.processes.start(spec)
            if echo:
                print(f"newswire-dev: starting {name} (pid {pid}) ...", flush=True)
            await self.processes.wait_ready(spec, pid, self.settings.start_timeout_seconds)
            started.append(name)
        return started

    def down(self, only: Iterable[str] | None = None, *, echo: bool = True) -> list[str]:
        """Stop components (services first), keeping their data; return those stopped."""
        stopped = []
        for name in reversed(self.components(only)):
            if self.processes.stop(
                name, self.marker(name), timeout=60.0 if name == "kafka" else 30.0
            ):
                stopped.append(name)
                if echo:
                    print(f"newswire-dev: stopped {name}", flush=True)
        return stopped

    def reset(self) -> None:
        """Stop everything and delete the broker's log and the store (tools are kept)."""
        self.down()
        shutil.rmtree(self.settings.data_dir, ignore_errors=True)
        shutil.rmtree(self.settings.local_dir / "config", ignore_errors=True)

    async def start_instance(
        self, service: str, instance: str, *, port: int, env: Mapping[str, str] | None = None
    ) -> int:
        """Start one more instance of a service (same consumer group) as ``instance``; its pid.

        For scaling out and for tests of what several instances do together.
        """
        settings = self.settings.model_copy(update={f"{service}_port": port})
        spec = replace(
            service_spec(service, settings, {**self.service_env, **(env or {})}), name=instance
        )
        pid = self.processes.start(spec)
        await self.processes.wait_ready(spec, pid, self.settings.start_timeout_seconds)
        return pid

    def stop_instance(self, service: str, instance: str) -> bool:
        return self.processes.stop(instance, self.marker(service))

    @asynccontextmanager
    async def lease(self, components: Iterable[str] = INFRASTRUCTURE) -> AsyncIterator[None]:
        """Use components that several processes (test sessions, benchmarks) share.

        Each user holds a lease (a file named by its pid). What a lease holder started is
        stopped by the last holder to leave; what someone else started (``make up``) is
        left running.
        """
        names = list(components)
        leases, started_file = (
            self.settings.run_dir / "leases",
            self.settings.run_dir / "leases-started",
        )
        leases.mkdir(parents=True, exist_ok=True)
        # One file per lease, named by its holder's pid: a process may hold several (a test
        # session's and a test's own), and leaving one must not drop the others.
        own = leases / f"{os.getpid()}-{secrets.token_hex(4)}"
        with _locked(self.settings.run_dir / "leases.lock"):
            started = await self.up(names, echo=False)
            if started:
                recorded = set(started_file.read_text().split()) if started_file.exists() else set()
                started_file.write_text(" ".join(sorted(recorded | set(started))))
            own.touch()
        try:
            yield
        finally:
            with _locked(self.settings.run_dir / "leases.lock"):
                own.unlink(missing_ok=True)
                others = [
                    lease
                    for lease in leases.iterdir()
                    if Path(f"/proc/{lease.name.split('-')[0]}").exists()
                ]
                if not others and started_file.exists():
                    self.down(started_file.read_text().split(), echo=False)
                    started_file.unlink()

    def status(self) -> list[ComponentStatus]:
        return [
            ComponentStatus(name, None, external=True)
            if self.is_external(name)
            else ComponentStatus(name, self.processes.running_pid(name, self.marker(name)))
            for name in ORDER
        ]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
