"""The shared store client against the real MongoDB-wire store: every command is timed on
/metrics, failures under their own outcome."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from newswire_platform import StoreSettings, create_mongo_client
from newswire_platform.metrics import STORE_COMMAND_SECONDS
from pymongo.errors import OperationFailure

pytestmark = pytest.mark.integration


class StoreProbeSettings(StoreSettings):
    service_name: ClassVar[str] = "store-probe"


def observed(command: str, outcome: str = "ok") -> float:
    """How many ``command`` round trips the histogram has counted so far."""
    for metric in STORE_COMMAND_SECONDS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count") and sample.labels == {
                "service": "store-probe",
                "command": command,
                "outcome": outcome,
            }:
                return sample.value
    return 0.0


async def test_every_store_command_is_timed(infrastructure: Any, namespace: Any) -> None:
    settings = StoreProbeSettings(
        mongodb_url=infrastructure.mongodb_url, mongodb_database=namespace.database
    )
    client = create_mongo_client(settings)
    try:
        collection = client[settings.mongodb_database]["store_probe"]
        inserts, finds = observed("insert"), observed("find")
        await collection.insert_one({"_id": "one", "n": 1})
        assert await collection.find_one({"_id": "one"}) == {"_id": "one", "n": 1}
        assert await collection.find_one({"_id": "two"}) is None
        assert observed("insert") == inserts + 1
        assert observed("find") == finds + 2

        failures = observed("count", "error")
        with pytest.raises(OperationFailure):  # a filter the store rejects: the command fails
            await client[settings.mongodb_database].command(
                "count", "store_probe", query={"n": {"$nosuchoperator": 1}}
            )
        assert observed("count", "error") == failures + 1
    finally:
        await client.close()
