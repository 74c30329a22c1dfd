"""Related lists and stories, kept as the relation graph grows.

Each article keeps its best ``keep`` relations. Stories are the connected components of
the strong relations (score >= story_min): an article joins the story of every article it
is strongly related to, and two stories it bridges become one. That is how an early
mistake is corrected: an article first left alone (or in a story of its own) joins the
right story when a later article links them, and the merged story keeps the id of its
earliest article. Both are functions of the set of relations alone, not of the order in
which articles arrive, so every relate instance, and every replay, reaches the same lists
and stories.
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
    """Story roots whose membership changed (the surviving root of a merge included)."""
    absorbed: dict[int, int] = field(default_factory=dict)
    """Old story root -> the root it merged into."""
    moved: set[int] = field(default_factory=set)
    """Slots whose story changed."""


class RelationGraph:
    def __init__(self, index: CandidateIndex, *, keep: int = 20) -> None:
        self.index = index
        self.keep = keep
        # slot -> [(-score, other id, other slot)], best first; ids break ties the same way everywhere
        self.related: dict[int, list[tuple[float, str, int]]] = {}
        # slot -> {other slot: their relation}, both ways (one Relation object per pair)
        self._relations: dict[int, dict[int, Relation]] = {}
        self._parent: dict[int, int] = {}
        self.members: dict[int, list[int]] = {}

    def add(
        self,
        slot: int,
        relations: list[tuple[int, Relation]],
        *,
        story_min: float,
        related_min: float,
    ) -> Changes:
        changes = Changes()
        self.related.setdefault(slot, [])
        if slot not in self._parent:
            self._parent[slot] = slot
            self.members[slot] = [slot]
            changes.stories.add(slot)
            changes.moved.add(slot)
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
            if relation.score >= story_min or relation.duplicate:
                self._union(slot, other, changes)
        return changes

    def relation(self, a: int, b: int) -> Relation:
        return self._relations[a][b]

    def related_to(self, slot: int) -> set[int]:
        """Every slot with a relation to this one, whichever of the two arrived last."""
        return set(self._relations.get(slot, ()))

    def story_of(self, slot: int) -> int:
        root = slot
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[slot] != root:  # path compression
            self._parent[slot], slot = root, self._parent[slot]
        return root

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

    def _union(self, a: int, b: int, changes: Changes) -> None:
        ra, rb = self.story_of(a), self.story_of(b)
        if ra == rb:
            return
        # The earliest article names the story, whichever joined first.
        key = lambda s: (self.index.articles[s].time, self.index.articles[s].id)  # noqa: E731
        keep, gone = (ra, rb) if key(ra) <= key(rb) else (rb, ra)
        self._parent[gone] = keep
        renamed = self.members.pop(gone)  # their story id changes
        changes.moved.update(renamed)
        kept = self.members[keep]
        if len(renamed) > len(kept):  # extend the longer list: a merge costs the shorter one
            renamed.extend(kept)
            self.members[keep] = renamed
        else:
            kept.extend(renamed)
        changes.stories.add(keep)
        changes.stories.discard(gone)
        changes.absorbed[gone] = keep
        for old, new in list(changes.absorbed.items()):
            if new == gone:
                changes.absorbed[old] = keep
