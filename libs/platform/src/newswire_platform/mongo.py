"""MongoDB wiring with PyMongo's async client (works with MongoDB and FerretDB)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, WTimeoutError

from .metrics import StoreCommandMetrics
from .settings import StoreSettings

__all__ = [
    "StoreError",
    "StoreUnavailable",
    "create_mongo_client",
    "ping_mongo",
    "store_errors",
    "wait_for_mongo",
]


class StoreError(Exception):
    """A store operation failed. What adapters raise, so that nothing above them sees pymongo."""


class StoreUnavailable(StoreError):
    """The store could not be reached or did not answer in time: it will pass, retry later."""


@contextmanager
def store_errors() -> Iterator[None]:
    """Turn pymongo's errors raised inside the block into StoreError / StoreUnavailable."""
    try:
        yield
    except (ConnectionFailure, ExecutionTimeout, WTimeoutError) as exc:
        raise StoreUnavailable(str(exc)) from exc
    except PyMongoError as exc:
        raise StoreError(str(exc)) from exc


log = logging.getLogger(__name__)


def create_mongo_client(settings: StoreSettings) -> AsyncMongoClient[dict[str, Any]]:
    """A client that returns aware UTC datetimes, gives up on a dead server in 10 s and
    times every command for /metrics (``newswire_store_command_seconds``).

    Creating it does not connect; the first operation does.
    """
    return AsyncMongoClient(
        settings.mongodb_url,
        tz_aware=True,
        appname=f"newswire-{settings.service_name}",
        serverSelectionTimeoutMS=10_000,
        connectTimeoutMS=5_000,
        socketTimeoutMS=30_000,
        event_listeners=[StoreCommandMetrics(settings.service_name)],
    )


async def ping_mongo(client: AsyncMongoClient[dict[str, Any]], timeout: float = 2.0) -> bool:
    """Whether the store answers a ping within ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            await client.admin.command("ping")
        return True
    except (PyMongoError, TimeoutError):
        return False


async def wait_for_mongo(client: AsyncMongoClient[dict[str, Any]], timeout: float = 60.0) -> None:
    """Wait until the store answers (it may still be starting), or raise TimeoutError."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await ping_mongo(client):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"MongoDB did not answer within {timeout:.0f}s")
        log.warning("waiting for MongoDB")
        await asyncio.sleep(1.0)
