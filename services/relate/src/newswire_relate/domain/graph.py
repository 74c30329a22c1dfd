"""Related lists and relations, kept as the relation graph grows.

Each article keeps its best ``keep`` relations, and the graph keeps every relation at or
above ``related_min`` both ways (the story pass reads them: see stories.py). Both are
functions of the set of relations alone, not of the order in which articles arrive, so
every relate instance, and every replay, reaches the same lists.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from .index import CandidateIndex
from .scoring import Relation

__all__ = ["Changes", "RelationGraph"]


@dataclass
class Changes:
    """What adding one article changed."""

    related: set[int] = field(default_factory=set)
    """Slots whose related list changed (the new article's included)."""
    stories: set[int] = field(default_factory=set)
    """Story roots whose membership changed: the stories articles joined and the ones they
    left (a story absorbed in a merge, or dissolved by a late earlier article, included)."""
    moved: set[int] = field(default_factory=set)
    """Slots whose story changed (the new article's included)."""


class RelationGraph:
    def __init__(self, index: CandidateIndex, *, keep: int = 20) -> None:
        self.index = index
        self.keep = keep
        # slot -> [(-score, other id, other slot)], best first; ids break ties the same way everywhere
        self.related: dict[int, list[tuple[float, str, int]]] = {}
        # slot -> {other slot: their relation}, both ways (one Relation object per pair)
        self._relations: dict[int, dict[int, Relation]] = {}

    def add(
        self,
        slot: int,
        relations: list[tuple[int, Relation]],
        *,
        related_min: float,
    ) -> Changes:
        changes = Changes()
        self.related.setdefault(slot, [])
        changes.related.add(slot)
        for other, relation in relations:
            if relation.score < related_min and not relation.duplicate:
                continue
            self._relations.setdefault(slot, {})[other] = relation
            self._relations.setdefault(other, {})[slot] = relation
            if self._offer(slot, other, relation.score):
                changes.related.add(slot)
            if self._offer(other, slot, relation.score):
                changes.related.add(other)
        return changes

    def relation(self, a: int, b: int) -> Relation:
        return self._relations[a][b]

    def related_to(self, slot: int) -> set[int]:
        """Every slot with a relation to this one, whichever of the two arrived last."""
        return set(self._relations.get(slot, ()))

    def relations(self, slot: int) -> dict[int, Relation]:
        """Every relation of this slot: other slot -> relation."""
        return self._relations.get(slot, {})

    def _offer(self, slot: int, other: int, score: float) -> bool:
        ranked = self.related.setdefault(slot, [])
        entry = (-score, self.index.articles[other].id, other)
        for i, (_, _, existing) in enumerate(ranked):
            if existing == other:
                if ranked[i] == entry:
                    return False
                del ranked[i]
                break
        bisect.insort(ranked, entry)
        if len(ranked) > self.keep:
            dropped = ranked.pop()
            return dropped != entry
        return True
