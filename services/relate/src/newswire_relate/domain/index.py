"""The candidate index: which articles share a key with an article, near it in time.

Postings are filed by key and by day, so a lookup reads only the days inside the window:
its cost depends on how many articles a day brings, not on how many are stored. A key
with very long postings in a day (a word or name in every article) gives only its latest
entries: it says little about relatedness anyway.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict

from .features import Features

__all__ = ["CandidateIndex"]

DAY = 86_400.0


class CandidateIndex:
    def __init__(
        self, *, window_days: int = 14, per_key_day_cap: int = 200, max_candidates: int = 200
    ) -> None:
        self.window_days = window_days
        self.per_key_day_cap = per_key_day_cap
        self.max_candidates = max_candidates
        self.articles: list[Features] = []
        self.slot_of: dict[str, int] = {}
        self._postings: defaultdict[tuple[int, int], list[int]] = defaultdict(list)

    def __len__(self) -> int:
        return len(self.articles)

    def add(self, features: Features) -> tuple[int, bool]:
        """File an article; (its slot, whether it was new). A new version keeps its slot."""
        slot = self.slot_of.get(features.id)
        new = slot is None
        if slot is None:
            slot = len(self.articles)
            self.articles.append(features)
            self.slot_of[features.id] = slot
        else:
            self.articles[slot] = features
        day = int(features.time // DAY)
        for key in features.keys:
            posting = self._postings[(key, day)]
            if not posting or posting[-1] != slot:
                posting.append(slot)
        return slot, new

    def candidates(self, slot: int) -> list[int]:
        """Slots sharing at least one key with ``slot`` within the window, most keys first
        (then by id: ids are unique, so the order is total and the same whatever the order
        in which articles were filed)."""
        features = self.articles[slot]
        articles = self.articles
        day = int(features.time // DAY)
        first, last = day - self.window_days, day + self.window_days
        shared: Counter[int] = Counter()
        edges: list[int] = []
        for key in features.keys:
            for d in range(first, last + 1):
                posting = self._postings.get((key, d))
                if posting:
                    recent = posting[-self.per_key_day_cap :]
                    # Only an article filed on the window's first or last day can be further
                    # than the window apart: only those are looked at one by one.
                    if d in (first, last):
                        edges.extend(recent)
                    else:
                        shared.update(recent)
        limit = self.window_days * DAY
        shared.update(o for o in edges if abs(articles[o].time - features.time) <= limit)
        shared.pop(slot, None)
        by_rank = lambda o: (-shared[o], articles[o].id)  # noqa: E731
        if len(shared) <= self.max_candidates:
            return sorted(shared, key=by_rank)
        # The count of the last one taken; everything above it is in, ties go by id. Only
        # the tied ones need their ids: the long tail sharing one key is mostly never read.
        threshold = heapq.nlargest(self.max_candidates, shared.values())[-1]
        above = sorted((o for o, c in shared.items() if c > threshold), key=by_rank)
        tied = [o for o, c in shared.items() if c == threshold]
        return above + heapq.nsmallest(
            self.max_candidates - len(above), tied, key=lambda o: articles[o].id
        )
