"""Recently read articles, kept until the live feed says they changed.

Relate publishes ``articles.related`` after every write of an article's document, and every
gateway follows that topic for ``/v1/stream`` anyway, so a cached article is dropped as soon
as its event arrives: a read after the change sees the change, as far as the feed keeps up.
Entries also expire after ``ttl`` seconds, which bounds staleness if the feed falls behind
(for example while Kafka is away). A read that started before an invalidation of the same
article never puts its (possibly older) document in the cache.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from newswire_contracts.readmodel import StoredArticle

__all__ = ["ArticleCache"]


@dataclass(slots=True)
class _Entry:
    article: StoredArticle
    expires: float
    bodies: dict[str, bytes] = field(default_factory=dict)


class ArticleCache:
    def __init__(self, size: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._size = size
        self._ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # When each article was last invalidated (bounded like the entries): a read that
        # began before that must not fill the cache.
        self._epoch = 0
        self._invalidated: OrderedDict[str, int] = OrderedDict()
        self._forgotten = 0
        """The latest epoch evicted from ``_invalidated``: reads older than it are not kept."""

    @property
    def epoch(self) -> int:
        """Take before reading the store; give to ``put`` with what was read."""
        return self._epoch

    def get(self, article_id: str) -> StoredArticle | None:
        entry = self._live(article_id)
        return entry.article if entry is not None else None

    def put(self, article: StoredArticle, read_at: int) -> None:
        if self._size <= 0:
            return
        if read_at < self._forgotten or read_at < self._invalidated.get(article.id, -1):
            return
        self._entries[article.id] = _Entry(article, self._clock() + self._ttl)
        self._entries.move_to_end(article.id)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def invalidate(self, article_id: str) -> None:
        self._epoch += 1
        self._entries.pop(article_id, None)
        self._invalidated[article_id] = self._epoch
        self._invalidated.move_to_end(article_id)
        while len(self._invalidated) > max(self._size, 1):
            _, epoch = self._invalidated.popitem(last=False)
            self._forgotten = max(self._forgotten, epoch)

    def body(
        self, article: StoredArticle, render: Callable[[StoredArticle], bytes], variant: str = ""
    ) -> bytes:
        """``render(article)``, computed once per cached document and ``variant`` (one
        response shape: the article, its related list with some limit, ...)."""
        entry = self._live(article.id)
        if entry is None or entry.article is not article:
            return render(article)
        body = entry.bodies.get(variant)
        if body is None:
            body = entry.bodies[variant] = render(article)
        return body

    def __len__(self) -> int:
        return len(self._entries)

    def _live(self, article_id: str) -> _Entry | None:
        entry = self._entries.get(article_id)
        if entry is None:
            return None
        if entry.expires <= self._clock():
            del self._entries[article_id]
            return None
        self._entries.move_to_end(article_id)
        return entry
