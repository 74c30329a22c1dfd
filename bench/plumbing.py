"""The plumbing limit: a FastStream app that consumes and stores, and does nothing else.

``python -m bench.plumbing MODE BOOTSTRAP TOPIC GROUP COUNT [MONGODB_URL DATABASE]`` consumes
COUNT messages of TOPIC in consumer group GROUP and, given a store, upserts each one's JSON
body by its key, as a service writes an article by its id. MODE ``message``: one message at a
time, offsets committed after each (FastStream's default); ``batch``: batches of up to 500,
one unordered bulk write by ``_id`` and one commit per batch, the fair limit for consumers
that batch. Otherwise it is configured as Newswire's consumers are (idempotent producer,
acks=all), so the gap between its rate and Newswire's is what Newswire's processing costs. It
prints one JSON line when done: the handling times (monotonic ns) of the first and last
message and how many it handled.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker, KafkaMessage
from pymongo import AsyncMongoClient, ReplaceOne

BULK_CHUNK = 20


def build(
    mode: str, bootstrap: str, topic: str, group: str, count: int, store: tuple[str, str] | None
) -> tuple[FastStream, dict[str, Any]]:
    broker = KafkaBroker(bootstrap, acks="all", enable_idempotence=True)
    app = FastStream(broker)
    seen: dict[str, Any] = {"count": 0, "first": None, "last": None}
    client: AsyncMongoClient[dict[str, Any]] | None = None
    if store is not None:
        client = AsyncMongoClient(store[0])
        collection = client[store[1]]["plumbing"]

    def handled(n: int) -> None:
        now = time.monotonic_ns()
        seen["first"] = seen["first"] or now
        seen["last"] = now
        seen["count"] += n
        if seen["count"] >= count:
            asyncio.get_running_loop().call_soon(app.exit)

    if mode == "batch":

        @broker.subscriber(
            topic,
            group_id=group,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.ACK,
            batch=True,
            max_records=500,
            batch_timeout_ms=100,
        )
        async def handle_batch(message: KafkaMessage) -> None:
            records = message.raw_message
            records = records if isinstance(records, tuple) else (records,)
            if client is not None:
                writes = [
                    ReplaceOne({"_id": (r.key or b"").decode()}, json.loads(r.value), upsert=True)
                    for r in records
                ]
                # FerretDB 1.24 stops answering (every client, until restarted) when one bulk
                # write replaces 100 documents that exist already; 20 are fine.
                for at in range(0, len(writes), BULK_CHUNK):
                    await collection.bulk_write(writes[at : at + BULK_CHUNK], ordered=False)
            handled(len(records))

    else:

        @broker.subscriber(
            topic, group_id=group, auto_offset_reset="earliest", ack_policy=AckPolicy.ACK
        )
        async def handle(body: dict[str, Any], message: KafkaMessage) -> None:
            if client is not None:
                key = (message.raw_message.key or b"").decode()
                await collection.replace_one({"_id": key}, body, upsert=True)
            handled(1)

    @app.after_shutdown
    async def close() -> None:
        if client is not None:
            await client.close()

    return app, seen


def main() -> None:
    mode, bootstrap, topic, group, count, *rest = sys.argv[1:]
    store = (rest[0], rest[1]) if rest else None
    app, seen = build(mode, bootstrap, topic, group, int(count), store)
    asyncio.run(app.run())
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
