"""Follow Newswire's related-articles stream with FastStream.

Needs only ``newswire-contracts`` and ``faststream[kafka]``; nothing else from Newswire.

    uv run python examples/consume_related_faststream.py --bootstrap 127.0.0.1:9092

Every message on ``articles.related`` is validated as an ``ArticleRelated`` event (its
CloudEvents headers and its JSON body). A message that is not one is logged and skipped;
an offset is committed only once the handler is done with the message.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.exceptions import AckMessage
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from newswire_contracts import ArticleRelated, InvalidEventError, cloudevents, topics

log = logging.getLogger("newswire.example.faststream")

OnRelated = Callable[[ArticleRelated], Awaitable[None]]


async def decode_related(msg: StreamMessage[Any]) -> ArticleRelated:
    """FastStream decoder: the message as an ``ArticleRelated``, or skip it."""
    try:
        event, _meta = cloudevents.decode(ArticleRelated, msg.headers, msg.body)
    except InvalidEventError as exc:
        log.warning("skipping a message that is not an ArticleRelated event: %s", exc)
        raise AckMessage() from exc  # commit past it: retrying cannot fix a bad message
    return event


def build_broker(bootstrap: str, topic: str, group: str, on_related: OnRelated) -> KafkaBroker:
    """A broker subscribed to ``topic`` that passes each ArticleRelated to ``on_related``."""
    broker = KafkaBroker(bootstrap)

    @broker.subscriber(
        topic,
        group_id=group,
        decoder=decode_related,
        auto_offset_reset="earliest",  # a new group starts at the oldest message
        ack_policy=AckPolicy.ACK,  # commit after the handler, not before
    )
    async def handle(related: ArticleRelated) -> None:
        await on_related(related)

    return broker


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
    parser.add_argument("--group", default="example-related-faststream", help="consumer group")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    broker = build_broker(args.bootstrap, args.topic, args.group, print_related)
    asyncio.run(FastStream(broker).run())


if __name__ == "__main__":
    main()
