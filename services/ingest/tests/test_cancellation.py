"""run_to_completion: a step a cancelled caller finishes before it ends."""

from __future__ import annotations

import asyncio

import pytest
from newswire_ingest.cancellation import run_to_completion

pytestmark = pytest.mark.unit


async def test_a_cancelled_caller_finishes_the_step_then_ends_cancelled() -> None:
    gate, done = asyncio.Event(), []

    async def step() -> None:
        await gate.wait()
        done.append("step")

    caller = asyncio.create_task(run_to_completion(step()))
    await asyncio.sleep(0)
    caller.cancel()
    await asyncio.sleep(0.05)
    assert not caller.done(), "waits for the step"
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert done == ["step"]


async def test_a_second_cancellation_interrupts_the_step() -> None:
    started = asyncio.Event()

    async def step() -> None:
        started.set()
        await asyncio.Event().wait()  # never ends by itself

    caller = asyncio.create_task(run_to_completion(step()))
    await started.wait()
    caller.cancel()
    await asyncio.sleep(0.05)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(caller, timeout=1)


async def test_the_step_failing_after_cancellation_still_ends_the_caller_cancelled() -> None:
    gate = asyncio.Event()

    async def step() -> None:
        await gate.wait()
        raise ConnectionError("store down")

    caller = asyncio.create_task(run_to_completion(step()))
    await asyncio.sleep(0)
    caller.cancel()
    await asyncio.sleep(0.05)
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await caller


async def test_without_cancellation_the_result_and_errors_pass_through() -> None:
    async def answer() -> int:
        return 42

    async def failing() -> None:
        raise ConnectionError("store down")

    assert await run_to_completion(answer()) == 42
    with pytest.raises(ConnectionError):
        await run_to_completion(failing())
