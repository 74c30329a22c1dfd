"""Several relate instances, each with its own view, end with the documents one instance writes.

Each instance indexes every enriched article, in its own interleaving of the partitions, and
places them in stories in batches of its own; it writes only the articles and stories of its
partitions. Here the instances run relate's real handlers over real dev-corpus articles
(enriched by enrich's real pipeline), under seeded schedules of which instance reads, handles
or idles when; the log and the store are in memory, with the stores' semantics (their own
tests run them against the real store). What must hold at the end, whatever the schedule:
every article and story document is what a single instance that saw everything writes.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from newswire_contracts import (
    ArticleEnriched,
    ArticleIngested,
    article_id,
    canonicalize_url,
    cloudevents,
)
from newswire_contracts.readmodel import StoredStory
from newswire_platform import DeadLetterPolicy
from newswire_relate.adapters.store import SaveResult
from newswire_relate.domain.documents import Relations, relations_of
from newswire_relate.domain.relator import Relator
from newswire_relate.handlers import (
    RelateDependencies,
    flush_refreshes,
    on_batch,
    rewrite_changed,
)
from newswire_relate.refresh import RelateRefresh

from tests.compose_stacks import corpus_articles

pytestmark = pytest.mark.service

NOW = datetime(2026, 3, 1, tzinfo=UTC)
PARTITIONS = 6
ENRICHED, REFRESH = "articles.enriched", "relate.refresh"


@pytest.fixture(scope="module")
def articles() -> list[ArticleEnriched]:
    """The 80 articles of the compose stack's reference corpus, as enrich enriches them."""
    # Here, not at the top: collecting the tests must not load the language models.
    from newswire_enrich.adapters.language import LanguageIdentifier
    from newswire_enrich.adapters.nlp import Pipelines
    from newswire_enrich.config import EnrichSettings
    from newswire_enrich.domain.enrichment import Enricher

    ingested = []
    for submission in corpus_articles("compose-reference", 80):
        body = submission.body
        url = canonicalize_url(body["url"])
        ingested.append(
            ArticleIngested(
                id=article_id(url),
                url=url,
                source=body["source"],
                title=body["title"],
                text=body["text"],
                published_at=datetime.fromisoformat(body["published_at"]),
                ingested_at=NOW,
                content_hash="0" * 64,
            )
        )
    enricher = Enricher(Pipelines(EnrichSettings().enrich_spacy_model), LanguageIdentifier())
    return enricher.enrich(ingested, now=NOW)


def partition(key: str) -> int:
    return zlib.crc32(key.encode()) % PARTITIONS


class Store:
    """Articles and stories as relate's stores keep them: by id, one writer each."""

    def __init__(self) -> None:
        self.relations: dict[str, Relations] = {}
        self.stories: dict[str, StoredStory] = {}

    async def save(
        self, article: ArticleEnriched, relations: Relations, *, now: datetime
    ) -> SaveResult:
        created = article.id not in self.relations
        self.relations[article.id] = relations
        return SaveResult("created" if created else "unchanged", article.version)

    async def update_relations(
        self, article_id: str, relations: Relations, *, now: datetime
    ) -> int | None:
        if article_id not in self.relations:
            return None  # not stored yet: its own event writes it
        before, self.relations[article_id] = self.relations[article_id], relations
        return None if before == relations else 1

    async def summary_of(self, article_id: str) -> str:
        return ""


class Stories:
    def __init__(self, store: Store) -> None:
        self._stories = store.stories

    async def save(self, story: StoredStory) -> bool:
        before, self._stories[story.id] = self._stories.get(story.id), story
        return before is None or before.model_copy(update={"updated_at": NOW}) != story

    async def get(self, story_id: str) -> StoredStory | None:
        return self._stories.get(story_id)


@dataclass
class Log:
    """The topics: records by (topic, partition), keyed like relate keys them."""

    records: dict[tuple[str, int], list[ConsumerRecord[Any, Any]]] = field(default_factory=dict)

    def append(self, topic: str, key: str, event: Any) -> None:
        p = partition(key)
        records = self.records.setdefault((topic, p), [])
        encoded = cloudevents.encode(event, source="/test")
        records.append(
            ConsumerRecord(
                topic,
                p,
                len(records),
                0,
                0,
                key.encode(),
                encoded.value,
                None,
                0,
                0,
                encoded.headers,
            )
        )

    def of(self, topic: str, p: int) -> list[ConsumerRecord[Any, Any]]:
        return self.records.get((topic, p), [])


class Reader:
    """An instance's index reader: every partition, in an interleaving of its own."""

    def __init__(self, log: Log, relator: Relator, rng: random.Random) -> None:
        self.log, self.relator, self.rng = log, relator, rng
        self.position = dict.fromkeys(range(PARTITIONS), 0)

    def read(self, count: int) -> None:
        for _ in range(count):
            behind = [
                p for p in range(PARTITIONS) if self.position[p] < len(self.log.of(ENRICHED, p))
            ]
            if not behind:
                return
            p = self.rng.choice(behind)
            record = self.log.of(ENRICHED, p)[self.position[p]]
            self.position[p] += 1
            article, _ = cloudevents.decode(ArticleEnriched, record.headers, record.value)
            self.relator.add(article, defer_stories=True)

    async def catch_up(self) -> None:
        self.read(len(self.log.records) * 10**6)

    async def settle_stories(self) -> None:
        self.relator.settle_stories()

    def indexed_at_start(self, partition: int, offset: int) -> bool:
        return False


class Publisher:
    def __init__(self, log: Log) -> None:
        self.log = log

    async def publish(self, event: Any, *, event_id: str) -> None:
        if isinstance(event, RelateRefresh):
            self.log.append(REFRESH, event.key(), event)


class Partitions:
    """An instance's share of the partitions (of both topics: the group assigns alike)."""

    def __init__(self, owned: set[int]) -> None:
        self.owned = owned

    def owns(self, key: str) -> bool:
        return partition(key) in self.owned

    def epoch(self) -> int:
        return 0  # no rebalance here: each instance keeps its partitions throughout


class NoDeadLetters:
    async def send(self, *_: Any, **__: Any) -> None:
        raise AssertionError("nothing here is a dead letter")


@dataclass
class Instance:
    deps: RelateDependencies
    reader: Reader
    owned: set[int]
    consumed: dict[tuple[str, int], int] = field(default_factory=dict)
    mark: int = 0
    """The view's generation at its last idle round (see IdleRewrites)."""

    def waiting(self, log: Log) -> Iterator[tuple[tuple[str, int], int]]:
        for (topic, p), records in log.records.items():
            if p in self.owned and self.consumed.get((topic, p), 0) < len(records):
                yield (topic, p), len(records)

    async def handle(self, log: Log, batch: int) -> None:
        records = []
        for place, _ in sorted(self.waiting(log)):
            start = self.consumed.get(place, 0)
            records += log.of(*place)[start : start + batch]
            self.consumed[place] = start + len(log.of(*place)[start : start + batch])
        await on_batch(records, self.deps)

    async def idle(self) -> None:
        upto, self.mark = self.mark, self.deps.relator.generation
        await rewrite_changed(self.deps, upto=upto)

    async def commit(self) -> None:
        """What runs before its offsets are committed (with deferred refreshes)."""
        await flush_refreshes(self.deps)


async def run_instances(
    articles: list[ArticleEnriched],
    count: int,
    seed: int,
    *,
    reads: int,
    batch: int = 4,
    defer: bool = False,
) -> Store:
    """Publish the articles in a seeded order while ``count`` instances read, handle, idle
    and (``defer``: refreshes wait for it) commit in a seeded schedule (``reads``: how much
    likelier a read is than a batch), until every record is handled and nothing is left to
    rewrite."""
    rng = random.Random(seed)
    log, store = Log(), Store()
    instances = []
    for i in range(count):
        relator = Relator()
        reader = Reader(log, relator, rng)
        owned = {p for p in range(PARTITIONS) if p % count == i}
        deps = RelateDependencies(
            relator,
            reader,  # type: ignore[arg-type]
            store,  # type: ignore[arg-type]
            Stories(store),  # type: ignore[arg-type]
            Publisher(log),  # type: ignore[arg-type]
            DeadLetterPolicy("relate", "relate.dlq", NoDeadLetters()),  # type: ignore[arg-type]
            ENRICHED,
            clock=lambda: NOW,
            owner=Partitions(owned),  # type: ignore[arg-type]
            defer_refreshes=defer,
        )
        instances.append(Instance(deps, reader, owned))
    order = rng.sample(articles, len(articles))
    while True:
        moves: list[Any] = ["publish"] * 3 if order else []
        moves += [("read", one) for one in instances] * reads
        moves += [("handle", one) for one in instances if any(one.waiting(log))]
        moves += [("idle", one) for one in instances]
        moves += [("commit", one) for one in instances if defer]
        if not order and not any(any(one.waiting(log)) for one in instances):
            for one in instances:
                await one.reader.catch_up()
            if not any(one.deps.relator.has_changed() or one.deps.deferred for one in instances):
                return store
            moves = [("idle", one) for one in instances]
            moves += [("commit", one) for one in instances if defer]
        move = rng.choice(moves)
        if move == "publish":
            article = order.pop()
            log.append(ENRICHED, article.id, article)
        elif move[0] == "read":
            move[1].reader.read(rng.randint(1, 5))
        elif move[0] == "handle":
            await move[1].handle(log, batch)
        elif move[0] == "commit":
            await move[1].commit()
        else:
            await move[1].idle()


def wrong_documents(articles: list[ArticleEnriched], store: Store) -> dict[str, Any]:
    """Every document that differs from what one instance that saw everything says."""
    one = Relator()
    for article in articles:
        one.add(article)
    wrong: dict[str, Any] = {}
    for article in articles:
        want, got = relations_of(one, article.id), store.relations.get(article.id)
        if got is None:
            wrong[article.id] = "not stored"
        elif got.story_id != want.story_id:
            wrong[article.id] = {"story_id": (got.story_id, want.story_id)}
        elif got != want:
            wrong[article.id] = {"related": [(r.id, r.same_story) for r in got.related]}
    for story_id in {one.story_id(article.id) for article in articles}:
        story, summary = store.stories.get(story_id), one.story(story_id)
        assert summary is not None
        members = tuple(member.id for member in story.articles) if story else None
        if members != summary.article_ids:
            wrong[f"story {story_id}"] = members
    for story_id, story in store.stories.items():
        if one.story(story_id) is None:
            # A story that merged says where to: its article's story now, or a story that
            # says so in turn.
            seen: list[str] = [story_id]
            at: StoredStory | None = story
            while at is not None and at.merged_into is not None and len(seen) < 100:
                seen.append(at.merged_into)
                at = store.stories.get(at.merged_into)
            if seen[-1] != one.story_id(story_id):
                wrong[f"story {story_id}"] = {"merged into": seen[1:]}
    return wrong


@pytest.mark.parametrize("defer", [False, True], ids=["per-batch", "deferred"])
@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("reads", [1, 20])
async def test_every_schedule_of_instances_ends_with_the_documents_of_one(
    articles: list[ArticleEnriched], count: int, reads: int, defer: bool
) -> None:
    for seed in range(12):
        store = await run_instances(articles, count, seed, reads=reads, defer=defer)
        wrong = wrong_documents(articles, store)
        assert not wrong, (seed, wrong)


@pytest.mark.parametrize("defer", [False, True], ids=["per-batch", "deferred"])
async def test_one_instance_ends_with_its_own_documents(
    articles: list[ArticleEnriched], defer: bool
) -> None:
    for seed in range(10):
        store = await run_instances(articles, 1, seed, reads=6, defer=defer)
        assert not wrong_documents(articles, store), seed
