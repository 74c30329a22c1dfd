"""Relate's handlers: enriched articles and refresh requests in; the read model,
``articles.related`` and ``stories.updated`` out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from newswire_contracts import ArticleEnriched, derive_event_id
from newswire_contracts.events import Event
from newswire_platform import (
    DeadLetterPolicy,
    Decoded,
    EventPublisher,
    TransientError,
    decode_batch,
    log_context,
)

from .adapters.store import ArticleStore, StoryStore
from .domain.documents import (
    Relations,
    related_event,
    relations_of,
    story_document,
    story_event,
)
from .domain.relator import Relator
from .index_reader import IndexReader
from .refresh import RefreshOwnership, RelateRefresh
from .written import WrittenRelations

log = logging.getLogger(__name__)
T = TypeVar("T")

Failed = list[tuple[ConsumerRecord[Any, Any], BaseException, int]]
"""Records for the dead-letter topic, with the error and the attempts made."""

Refreshes = dict[tuple[str, str], tuple[RelateRefresh, str]]
"""Refresh requests to publish, by target (kind, id), with their event ids."""


@dataclass(frozen=True)
class RelateDependencies:
    relator: Relator
    reader: IndexReader
    articles: ArticleStore
    stories: StoryStore
    publisher: EventPublisher
    dead_letters: DeadLetterPolicy
    enriched_topic: str
    """The deployed name of ``articles.enriched``; every other record is a refresh request."""
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    owner: RefreshOwnership = field(default_factory=lambda: RefreshOwnership(""))
    """Which refresh requests would come back to this instance (done here at once)."""
    writing: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held by a batch, and by a rewrite between batches: one writer of a document here."""
    defer_refreshes: bool = False
    """Refreshes that articles ask for wait in ``deferred`` for ``flush_refreshes`` (before
    the next offset commit) instead of being done after each batch."""
    deferred: Refreshes = field(default_factory=dict)
    written: WrittenRelations = field(init=False)
    """The relations this instance stored last, for as long as its assignment holds."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "written", WrittenRelations(self.owner.epoch))


async def on_batch(records: Sequence[ConsumerRecord[Any, Any]], deps: RelateDependencies) -> None:
    """Articles first, then refresh requests, then what changed here since it was written
    here, each message attempted on its own; the index catches up once per batch, and dead
    letters go last, so that a retry of the batch after a failed write does not send them
    twice."""
    async with deps.writing:
        await _on_batch(records, deps)


async def _on_batch(records: Sequence[ConsumerRecord[Any, Any]], deps: RelateDependencies) -> None:
    start = deps.relator.generation
    articles = decode_batch((r for r in records if r.topic == deps.enriched_topic), ArticleEnriched)
    refreshes = decode_batch((r for r in records if r.topic != deps.enriched_topic), RelateRefresh)
    failed: Failed = [
        (record, error, 1) for record, error in (*articles.invalid, *refreshes.invalid)
    ]
    if articles.events or refreshes.events:
        # Everything in the topic now: a refresh request for an article that came before
        # the article was stored was skipped, so its relations must be complete.
        try:
            await deps.reader.catch_up()
        except (TimeoutError, KafkaError) as exc:
            raise TransientError(f"relation index not caught up: {exc!r}") from exc
        await deps.reader.settle_stories()
    failed += await on_articles_enriched(articles.events, deps)
    failed += await on_refresh(refreshes.events, deps)
    if not deps.defer_refreshes:  # else flush_refreshes does it
        # What changed before this batch began and none of it wrote again.
        await rewrite_changed(deps, upto=start)
    for record, error, attempts in failed:
        await deps.dead_letters.dead_letter(record, error, attempts=attempts)


async def on_articles_enriched(
    batch: list[Decoded[ArticleEnriched]], deps: RelateDependencies
) -> Failed:
    """Store each article with its relations, then ask for the refreshes they need, each
    once for the whole batch; what failed for good is returned."""
    failed: Failed = []
    refreshes: Refreshes = {}
    for item in batch:
        replayed = deps.reader.indexed_at_start(item.record.partition, item.record.offset)
        with log_context(article_id=item.event.id, event_id=item.meta.id):
            work = partial(
                store_article, item.event, item.meta.id, deps, refreshes, replayed=replayed
            )
            failed += await _attempt(work, item.record, deps)
    # Before the batch is committed: a crash before this point redelivers the articles,
    # and storing them again asks for the same refreshes.
    if deps.defer_refreshes:
        for key, asked in refreshes.items():
            deps.deferred.setdefault(key, asked)
    else:
        await _refresh_where_owned(refreshes.values(), deps)
    return failed


async def flush_refreshes(deps: RelateDependencies) -> None:
    """Do the refreshes asked for since the last call, each once however many articles
    asked, then write again what changed here (see rewrite_changed).

    Runs before offsets are committed (IntervalCommits.before_commit): a crash before it is
    done redelivers the articles that asked, and storing them again asks again. Coalescing
    over the commit interval rather than one batch is what it is for: below saturation a
    batch holds an article or two, and the older articles of a story in the news are
    changed by each arrival, so each of them would be written and published again for
    every one.
    """
    async with deps.writing:
        upto = deps.relator.generation
        pending = dict(deps.deferred)
        deps.deferred.clear()
        try:
            # Ownership as it is now: a partition given away since is asked for instead.
            await _refresh_where_owned(pending.values(), deps)
        except BaseException:
            for key, asked in pending.items():
                deps.deferred.setdefault(key, asked)
            raise
        await rewrite_changed(deps, upto=upto)


async def _refresh_where_owned(
    refreshes: Iterable[tuple[RelateRefresh, str]], deps: RelateDependencies
) -> None:
    """Do here the refreshes this instance would be asked for; ask for the others."""
    here: list[tuple[RelateRefresh, str]] = []
    asks: list[tuple[RelateRefresh, str]] = []
    for item in refreshes:
        (here if deps.owner.owns(item[0].key()) else asks).append(item)
    await _refresh_here_or_ask(here, asks, deps)


async def _refresh_here_or_ask(
    here: list[tuple[RelateRefresh, str]],
    asks: list[tuple[RelateRefresh, str]],
    deps: RelateDependencies,
) -> None:
    """Do the ``here`` refreshes: articles whose related list alone changed since this
    instance wrote them in bulk, the others side by side (each is its own document, and
    their events then share produce requests); publish the ``asks`` and those that failed
    here."""
    together, alone = _lists_alone(here, deps)
    failed = await _written_together(together, deps)
    done = await _side_by_side(_refreshed_here(*item, deps) for item in alone)
    asks = asks + failed + [item for item, ok in zip(alone, done, strict=True) if not ok]
    try:
        await asyncio.gather(
            *(deps.publisher.publish(request, event_id=event_id) for request, event_id in asks)
        )
    except KafkaError as exc:
        raise TransientError(f"refresh requests not published: {exc!r}") from exc


@dataclass(frozen=True, slots=True)
class _NewList:
    """An article refresh that changes only the related list, over what this instance stored."""

    request: RelateRefresh
    event_id: str
    relations: Relations
    version: int


def _lists_alone(
    refreshes: list[tuple[RelateRefresh, str]], deps: RelateDependencies
) -> tuple[list[_NewList], list[tuple[RelateRefresh, str]]]:
    """The article refreshes whose story and duplicate are as this instance stored them (only
    their lists can have changed; those that did not are left out: nothing to write), and
    the rest, for refresh()."""
    together: list[_NewList] = []
    alone: list[tuple[RelateRefresh, str]] = []
    for request, event_id in refreshes:
        stored = deps.written.stored(request.id) if request.kind == "article" else None
        if stored is None or not deps.relator.knows(request.id):
            alone.append((request, event_id))
            continue
        relations = relations_of(deps.relator, request.id)
        if (relations.story_id, relations.duplicate_of) != (stored.story_id, stored.duplicate_of):
            alone.append((request, event_id))
            continue
        deps.relator.written(request.id)
        if not deps.written.same(request.id, relations):
            together.append(_NewList(request, event_id, relations, stored.version))
    return together, alone


async def _written_together(
    lists: list[_NewList], deps: RelateDependencies
) -> list[tuple[RelateRefresh, str]]:
    """Write the new lists in bulk and publish them; the refreshes that failed, to be asked
    for through the topic."""
    if not lists:
        return []
    now = deps.clock()
    for item in lists:
        deps.written.forget(item.request.id)  # until stored: a failed write may have half happened
    try:
        stored = set(
            await deps.articles.set_related(
                [(item.request.id, item.relations) for item in lists], now=now
            )
        )
    except Exception:
        log.warning("refreshes failed here; asking through the topic", exc_info=True)
        return [(item.request, item.event_id) for item in lists]

    async def published(item: _NewList) -> bool:
        article_id = item.request.id
        if article_id not in stored:
            return True  # nothing to tell
        event = related_event(article_id, item.version, item.relations, now)
        try:
            await _publish(deps, event, item.event_id)
        except Exception:
            log.warning("refresh failed here; asking through the topic", exc_info=True)
            return False
        deps.written.remember(article_id, item.relations, item.version)
        return True

    done = await asyncio.gather(*map(published, lists))
    return [(item.request, item.event_id) for item, ok in zip(lists, done, strict=True) if not ok]


async def rewrite_changed(deps: RelateDependencies, *, upto: int) -> None:
    """Write again what this instance wrote and its view has changed since.

    The handler of an article asks for what the article changed in *its* view (see
    Relator); this closes the gap between views: whatever an owner wrote, it rewrites once
    its own view of it changes, whichever articles did that and however they arrived. In one
    instance that is what was asked for already, so little is left here; what is, failing
    here, is asked for through the topic (retried and dead-lettered the usual way).
    """
    changed = deps.relator.drain_changed(deps.owner.owns, upto=upto)
    now = deps.clock()
    requests = [
        RelateRefresh(kind="article", id=article_id, requested_at=now)
        for article_id in changed.articles
    ] + [RelateRefresh(kind="story", id=story_id, requested_at=now) for story_id in changed.stories]
    if not requests:
        return
    work = [
        (request, derive_event_id(_REWRITE, request.kind, request.id, now.isoformat()))
        for request in requests
    ]
    try:
        await _refresh_here_or_ask(work, [], deps)
    except TransientError:
        deps.relator.changed_again(changed)  # for the next try
        raise
    log.info(
        "changed since written, written again",
        extra={"articles": len(changed.articles), "stories": len(changed.stories)},
    )


class IdleRewrites:
    """Between batches, ``rewrite_changed`` every ``period`` seconds: an instance with nothing
    to consume still sees the other instances' articles arrive and change what it wrote."""

    def __init__(self, deps: RelateDependencies, period: float) -> None:
        self._deps, self._period = deps, period
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="relate-idle-rewrites")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        deps = self._deps
        mark = deps.relator.generation
        while True:
            await asyncio.sleep(self._period)
            # What changed a period ago or more: a batch that began since took it, or no
            # batch came to take it.
            upto, mark = mark, deps.relator.generation
            if deps.writing.locked() or not deps.relator.has_changed():
                continue
            try:
                async with deps.writing:
                    await rewrite_changed(deps, upto=upto)
            except Exception:
                # Left changed (see rewrite_changed) for the next round; the loop goes on.
                log.warning("rewrite between batches failed", exc_info=True)


_REWRITE = "relate-rewrite"


async def _refreshed_here(request: RelateRefresh, event_id: str, deps: RelateDependencies) -> bool:
    """Do a refresh whose request would come back to this instance; False when it failed
    here (then the request is published, and retried and dead-lettered the usual way)."""
    try:
        await refresh(request, event_id, deps)
    except Exception:
        log.warning("refresh failed here; asking through the topic", exc_info=True)
        return False
    return True


async def on_refresh(batch: list[Decoded[RelateRefresh]], deps: RelateDependencies) -> Failed:
    """Write the requested articles and stories again, each once (a refresh recomputes from
    the index as it is now, so the tenth request for one article in a batch has nothing left
    to do after the first); what failed for good is returned."""

    async def one(item: Decoded[RelateRefresh]) -> Failed:
        return await _attempt(partial(refresh, item.event, item.meta.id, deps), item.record, deps)

    # Side by side, as in on_articles_enriched: one document each.
    return [f for failed in await _side_by_side(map(one, coalesce(batch))) for f in failed]


async def refresh(request: RelateRefresh, event_id: str, deps: RelateDependencies) -> None:
    """Write the requested article or story again."""
    handle = refresh_article if request.kind == "article" else refresh_story
    with log_context(event_id=event_id, **{f"{request.kind}_id": request.id}):
        await handle(request.id, event_id, deps)


def coalesce(requests: list[Decoded[RelateRefresh]]) -> list[Decoded[RelateRefresh]]:
    """The first request for each article or story, in order."""
    first: dict[tuple[str, str], Decoded[RelateRefresh]] = {}
    for item in requests:
        first.setdefault((item.event.kind, item.event.id), item)
    return list(first.values())


async def store_article(
    article: ArticleEnriched,
    event_id: str,
    deps: RelateDependencies,
    refreshes: Refreshes,
    *,
    replayed: bool = False,
) -> None:
    """Store the article with its relations, and note in ``refreshes`` every other article
    or story it changed (see Relator.touched_by), whose writers must write them again."""
    now = deps.clock()
    relations = relations_of(deps.relator, article.id)
    deps.relator.written(article.id)
    deps.written.forget(article.id)  # until stored: a failed write may have half happened
    result = await deps.articles.save(article, relations, now=now)
    if result.outcome == "stale":
        log.info(
            "older version ignored",
            extra={"version": article.version, "stored": result.stored_version},
        )
        return
    await _publish(deps, related_event(article.id, article.version, relations, now), event_id)
    deps.written.remember(article.id, relations, article.version)
    touched = deps.relator.touched_by(article.id, replayed=replayed)
    requests = [
        RelateRefresh(kind="article", id=other, requested_at=now) for other in touched.articles
    ] + [RelateRefresh(kind="story", id=story, requested_at=now) for story in touched.stories]
    for request in requests:
        refreshes.setdefault(
            (request.kind, request.id),
            (request, derive_event_id(event_id, request.kind, request.id)),
        )
    log.info(
        "article related",
        extra={
            "outcome": result.outcome,
            "related": len(relations.related),
            "story_id": relations.story_id,
            "refreshes": len(requests),
        },
    )


async def refresh_article(article_id: str, event_id: str, deps: RelateDependencies) -> None:
    if not deps.relator.knows(article_id):
        return
    now = deps.clock()
    relations = relations_of(deps.relator, article_id)
    deps.relator.written(article_id)
    if deps.written.same(article_id, relations):
        return  # stored so by this instance, and nothing else writes it meanwhile
    deps.written.forget(article_id)
    version = await deps.articles.update_relations(article_id, relations, now=now)
    if version is not None:
        await _publish(deps, related_event(article_id, version, relations, now), event_id)
        log.debug(  # a few an article: its arrival's "article related" line is the record
            "relations refreshed",
            extra={"related": len(relations.related), "story_id": relations.story_id},
        )
        # Only here: None means unchanged or not stored yet, which the store does not tell apart.
        deps.written.remember(article_id, relations, version)


async def refresh_story(story_id: str, event_id: str, deps: RelateDependencies) -> None:
    relator = deps.relator
    if not relator.knows(story_id):
        return
    now = deps.clock()
    summary = relator.story(story_id)
    relator.story_written(story_id)
    if summary is not None:
        text = relator.summary_of(summary.representative)
        if text is None:  # an older article: as stored
            text = await deps.articles.summary_of(summary.representative)
        story = story_document(relator, summary, now, text)
        article_ids = summary.article_ids
    else:  # merged into another: say so, so readers of this id find the other
        previous = await deps.stories.get(story_id)
        if previous is None:
            return
        update = {"merged_into": relator.story_id(story_id), "updated_at": now}
        story, article_ids = previous.model_copy(update=update), ()
    if await deps.stories.save(story):
        await _publish(deps, story_event(story, article_ids), event_id)
        log.debug(
            "story updated",
            extra={"articles": story.article_count, "merged_into": story.merged_into},
        )


async def _side_by_side(work: Iterable[Awaitable[T]], limit: int = 16) -> list[T]:
    """Await all, ``limit`` at a time (the store's connections are shared)."""
    gate = asyncio.Semaphore(limit)

    async def one(awaitable: Awaitable[T]) -> T:
        async with gate:
            return await awaitable

    return await asyncio.gather(*map(one, work))


async def _attempt(
    work: Callable[[], Awaitable[None]], record: ConsumerRecord[Any, Any], deps: RelateDependencies
) -> Failed:
    failure = await deps.dead_letters.attempt(work, record)
    return [] if failure is None else [(record, *failure)]


async def _publish(deps: RelateDependencies, event: Event, cause_id: str) -> None:
    await deps.publisher.publish(event, event_id=derive_event_id(cause_id, event.event_type))
