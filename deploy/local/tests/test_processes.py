"""Process management of the local stack, with real processes."""

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest
from newswire_devstack.processes import ProcessManager, ProcessSpec, StartError
from newswire_devstack.tools import MissingToolError, require

pytestmark = pytest.mark.unit


async def always_ready() -> bool:
    return True


def sleeper(name: str = "sleeper", ports: tuple[int, ...] = ()) -> ProcessSpec:
    return ProcessSpec(
        name=name,
        argv=[sys.executable, "-c", "import time; time.sleep(60)"],
        ready=always_ready,
        ports=ports,
    )


def test_start_find_and_stop(tmp_path: Path) -> None:
    manager = ProcessManager(tmp_path / "run", tmp_path / "logs")
    pid = manager.start(sleeper())
    assert manager.pid_file("sleeper").read_text().strip() == str(pid)
    assert manager.running_pid("sleeper", "time.sleep") == pid
    assert manager.stop("sleeper", "time.sleep", timeout=5) is True
    assert manager.running_pid("sleeper", "time.sleep") is None
    assert not manager.pid_file("sleeper").exists()
    assert manager.stop("sleeper", "time.sleep") is False, "stopping twice is a no-op"


def test_a_recycled_pid_is_not_mistaken_for_the_component(tmp_path: Path) -> None:
    manager = ProcessManager(tmp_path / "run", tmp_path / "logs")
    (tmp_path / "run").mkdir()
    manager.pid_file("kafka").write_text(str(os.getpid()))  # alive, but not a broker
    assert manager.running_pid("kafka", "kafka.Kafka") is None
    assert not manager.pid_file("kafka").exists()
    manager.pid_file("kafka").write_text("999999999")  # no such process
    assert manager.running_pid("kafka", "kafka.Kafka") is None


def test_a_taken_port_is_reported_before_starting(tmp_path: Path) -> None:
    manager = ProcessManager(tmp_path / "run", tmp_path / "logs")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(StartError, match=f"port {port} is in use"):
            manager.start(sleeper(ports=(port,)))
    assert not manager.pid_file("sleeper").exists()


def test_a_component_that_dies_at_start_up_shows_its_log(tmp_path: Path) -> None:
    manager = ProcessManager(tmp_path / "run", tmp_path / "logs")

    async def never_ready() -> bool:
        return False

    spec = ProcessSpec(
        name="broken",
        argv=[sys.executable, "-c", "print('bad config'); raise SystemExit(3)"],
        ready=never_ready,
    )
    pid = manager.start(spec)
    with pytest.raises(StartError, match=r"(?s)broken exited during start-up.*bad config"):
        asyncio.run(manager.wait_ready(spec, pid, timeout=10))


def test_missing_programs_are_named_with_a_hint() -> None:
    with pytest.raises(MissingToolError, match="'no-such-program-xyz' was not found on PATH"):
        require("no-such-program-xyz")
