"""The gateway's article cache: what it serves, when it forgets, and that a read racing a
change never leaves the older copy behind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from newswire_contracts.readmodel import StoredArticle
from newswire_gateway.adapters.article_cache import ArticleCache

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def article(n: int, version: int = 1) -> StoredArticle:
    return StoredArticle.from_document(
        {
            "_id": f"{n:032x}",
            "url": f"https://news.example/{n}",
            "source": "news.example",
            "title": f"Article {n}",
            "text": "Text.",
            "ingested_at": NOW,
            "content_hash": "0" * 64,
            "version": version,
            "enriched_at": NOW,
            "stored_at": NOW,
        }
    )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_article_is_served_until_it_changes_or_expires() -> None:
    clock = Clock()
    cache = ArticleCache(size=10, ttl=30, clock=clock)
    one = article(1)
    cache.put(one, cache.epoch)
    assert cache.get(one.id) is one

    cache.invalidate(one.id)
    assert cache.get(one.id) is None

    cache.put(one, cache.epoch)
    clock.now = 29.9
    assert cache.get(one.id) is one
    clock.now = 30.0
    assert cache.get(one.id) is None


def test_a_read_that_began_before_a_change_is_not_kept() -> None:
    cache = ArticleCache(size=10, ttl=30)
    old = article(1, version=1)
    read_at = cache.epoch  # a request starts reading version 1 ...
    cache.invalidate(old.id)  # ... relate writes version 2 meanwhile ...
    cache.put(old, read_at)  # ... the request's version 1 must not be cached
    assert cache.get(old.id) is None

    new = article(1, version=2)
    cache.put(new, cache.epoch)
    assert cache.get(new.id) is new


def test_changes_to_other_articles_do_not_spoil_a_read() -> None:
    cache = ArticleCache(size=10, ttl=30)
    read_at = cache.epoch
    cache.invalidate(article(2).id)
    cache.put(article(1), read_at)
    assert cache.get(article(1).id) is not None


def test_size_is_bounded_least_recently_used_first() -> None:
    cache = ArticleCache(size=2, ttl=30)
    for n in (1, 2):
        cache.put(article(n), cache.epoch)
    assert cache.get(article(1).id) is not None  # 1 is now the most recent
    cache.put(article(3), cache.epoch)
    assert len(cache) == 2
    assert cache.get(article(2).id) is None
    assert cache.get(article(1).id) is not None


def test_when_too_many_changes_to_remember_older_reads_are_not_kept() -> None:
    cache = ArticleCache(size=2, ttl=30)
    read_at = cache.epoch
    for n in (1, 2, 3):  # article 1's change is forgotten once 2 and 3 change
        cache.invalidate(article(n).id)
    cache.put(article(1), read_at)
    assert cache.get(article(1).id) is None


def test_the_body_is_rendered_once_per_cached_copy() -> None:
    cache = ArticleCache(size=10, ttl=30)
    one = article(1)
    cache.put(one, cache.epoch)
    renders = []

    def render(a: StoredArticle) -> bytes:
        renders.append(a.version)
        return f"v{a.version}".encode()

    assert cache.body(one, render) == cache.body(one, render) == b"v1"
    assert renders == [1]
    cache.invalidate(one.id)
    two = article(1, version=2)
    cache.put(two, cache.epoch)
    assert cache.body(two, render) == b"v2"
    assert renders == [1, 2]
    assert cache.body(two, render, "related:10") == b"v2"  # another shape: rendered apart
    assert cache.body(two, render, "related:10") == b"v2"
    assert renders == [1, 2, 2]


def test_size_zero_caches_nothing() -> None:
    cache = ArticleCache(size=0, ttl=30)
    cache.put(article(1), cache.epoch)
    assert cache.get(article(1).id) is None
