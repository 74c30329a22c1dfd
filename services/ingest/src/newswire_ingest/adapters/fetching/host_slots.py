"""A few requests at once per host: polite to the sites a feed reader meets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

__all__ = ["HostSlots"]


@dataclass
class _Slot:
    semaphore: asyncio.Semaphore
    users: int = 0


class HostSlots:
    """At most ``size`` requests at once per host; a host's semaphore lives while in use."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._slots: dict[str, _Slot] = {}

    @asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        slot = self._slots.setdefault(host, _Slot(asyncio.Semaphore(self._size)))
        slot.users += 1
        try:
            async with slot.semaphore:
                yield
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[host]  # a feed reader meets many hosts; keep only busy ones
