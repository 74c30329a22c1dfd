"""Running a service: the event loop its settings choose."""

import asyncio
from typing import Any, ClassVar

import pytest
import uvloop
from newswire_platform import ServiceSettings, service

pytestmark = pytest.mark.unit


class LoopSettings(ServiceSettings):
    service_name: ClassVar[str] = "loop-probe"

    @property
    def http_port(self) -> int:
        return 0


@pytest.mark.parametrize(("choice", "uses_uvloop"), [("uvloop", True), ("asyncio", False)])
def test_run_serves_on_the_configured_event_loop(
    monkeypatch: pytest.MonkeyPatch, choice: str, uses_uvloop: bool
) -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def record_loop(app: Any, settings: ServiceSettings) -> None:
        loops.append(asyncio.get_running_loop())

    monkeypatch.setattr(service, "serve", record_loop)
    monkeypatch.setenv("NEWSWIRE_EVENT_LOOP", choice)
    service.run(LoopSettings(), lambda: object())
    assert len(loops) == 1
    assert isinstance(loops[0], uvloop.Loop) is uses_uvloop


def test_uvloop_is_the_default() -> None:
    assert LoopSettings().event_loop == "uvloop"
