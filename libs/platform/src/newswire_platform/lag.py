"""Consumer lag: how far each of a service's partitions is behind, for /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka.errors import KafkaError
from prometheus_client import Gauge

from .log_reader import LogReader
from .settings import ServiceSettings

__all__ = ["CONSUMER_LAG", "LagMonitor"]

log = logging.getLogger(__name__)

CONSUMER_LAG = Gauge(
    "newswire_consumer_lag",
    "Messages in a partition not yet committed by the service's consumer group.",
    ["service", "topic", "partition"],
)


class LagMonitor:
    """Every ``interval`` seconds: the group's committed offsets against the partitions' ends.

    The service's own group by default; ``group`` and ``service`` name another.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        group: str | None = None,
        service: str | None = None,
        interval: float = 15.0,
    ) -> None:
        self._settings = settings
        self._group = group or settings.consumer_group
        self._service = service or settings.service_name
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="lag-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def measure(self) -> dict[tuple[str, int], int]:
        async with LogReader(self._settings, "lag") as reader:
            committed = await reader.committed(self._group)
            if not committed:
                return {}
            ends = await reader.ends(committed)
        lags = {}
        for tp, position in committed.items():
            lag = max(0, ends[tp] - max(position.offset, 0))
            lags[(tp.topic, tp.partition)] = lag
            CONSUMER_LAG.labels(self._service, tp.topic, str(tp.partition)).set(lag)
        return lags

    async def _run(self) -> None:
        while True:
            try:
                await self.measure()
            except (KafkaError, OSError) as exc:
                log.warning("consumer lag not measured", extra={"error": repr(exc)})
            await asyncio.sleep(self._interval)
