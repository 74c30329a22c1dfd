"""The candidate index: which articles share a key with an article, near it in time.

Postings are filed by key and by day, so a lookup reads only the days inside the window:
its cost depends on how many articles a day brings, not on how many are stored. A key
with very long postings in a day (a word or name in every article) gives only its latest
entries: it says little about relatedness anyway.
"""

from __future__ import annotations

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
        """Slots sharing at least one key with ``slot`` within the window, most keys first."""
        features = self.articles[slot]
        day = int(features.time // DAY)
        shared: Counter[int] = Counter()
        for key in features.keys:
            for d in range(day - self.window_days, day + self.window_days + 1):
                posting = self._postings.get((key, d))
                if posting:
                    shared.update(posting[-self.per_key_day_cap :])
        shared.pop(slot, None)
        limit = self.window_days * DAY
        near = [
            (count, other)
            for other, count in shared.items()
            if abs(self.articles[other].time - features.time) <= limit
        ]
        near.sort(key=lambda item: (-item[0], self.articles[item[1]].id))
        return [other for _, other in near[: self.max_candidates]]
