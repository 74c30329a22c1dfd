"""Follow Newswire's related-articles stream with plain aiokafka.

Needs only ``newswire-contracts`` and ``aiokafka``; nothing else from Newswire.

    uv run python examples/consume_related_aiokafka.py --bootstrap 127.0.0.1:9092

Each message is validated as an ``ArticleRelated`` event; one that is not is logged and
skipped. The offset is committed by hand after the handler returns, so an event is
delivered at least once: if the handler raises, nothing is committed and the consumer
stops, and the group resumes at that message next time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from newswire_contracts import ArticleRelated, InvalidEventError, cloudevents, topics

log = logging.getLogger("newswire.example.aiokafka")

Handle = Callable[[ArticleRelated], Awaitable[None]]


async def consume(
    bootstrap: str,
    topic: str,
    group: str,
    handle: Handle,
    *,
    max_messages: int | None = None,
) -> int:
    """Pass each ArticleRelated on ``topic`` to ``handle``; return how many were handled.

    Runs until cancelled, or until ``max_messages`` messages (skipped ones included) have
    been read and committed.
    """
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,  # commit ourselves, after handling
        auto_offset_reset="earliest",  # a new group starts at the oldest message
    )
    await consumer.start()
    read = handled = 0
    try:
        async for record in consumer:
            try:
                event, meta = cloudevents.decode(ArticleRelated, record.headers, record.value)
            except InvalidEventError as exc:
                log.warning(
                    "skipping %s[%d]@%d: %s", record.topic, record.partition, record.offset, exc
                )
            else:
                log.debug("event %s from %s", meta.id, meta.source)
                await handle(event)
                handled += 1
            partition = TopicPartition(record.topic, record.partition)
            await consumer.commit({partition: record.offset + 1})
            read += 1
            if max_messages is not None and read >= max_messages:
                break
    finally:
        await consumer.stop()
    return handled


async def print_related(related: ArticleRelated) -> None:
    print(f"article {related.id}: {len(related.related)} related, story {related.story_id}")
    for entry in related.related:
        print(f"  {entry.score:.2f} {entry.relation:9} {entry.source}: {entry.title} <{entry.url}>")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    parser.add_argument(
        "--topic",
        default=topics.ARTICLES_RELATED,
        help="topic to follow (add the deployment's prefix, if it has one)",
    )
    parser.add_argument("--group", default="example-related-aiokafka", help="consumer group")
    parser.add_argument(
        "--max-messages", type=int, default=None, help="stop after this many messages"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: stop quietly
        asyncio.run(
            consume(
                args.bootstrap,
                args.topic,
                args.group,
                print_related,
                max_messages=args.max_messages,
            )
        )


if __name__ == "__main__":
    main()
