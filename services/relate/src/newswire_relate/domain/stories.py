"""Stories decided at the level of the story, the same whatever the order articles arrive in.

The stories are *defined* as the result of one single pass over the articles in a canonical
order, by ``StoryArticle.key`` = (ingest time, id): the order in which Newswire took the
articles in, which every instance reads from the event and which the arrivals follow but
for a few seconds of skew between partitions. (Publication time would be as canonical, but
arrivals follow it only loosely: a feed polled every ten minutes, a backfill of a new feed,
an outlet's clock. Each such article rolled back every decision published after it, so a
stream in publication order at random cost ~90 redone decisions an article on the dev
corpus, and more the faster articles came. Publication times still weigh in every decision,
through the time term.) In that pass each article, in turn,

1. joins a near-copy's story if it is a near-copy of an earlier article; otherwise
2. takes the stories of the earlier articles it is related to (the relation graph's, at
   most ``max_stories``, the most strongly related first), plus, with ``reach_days``, older
   stories found by key in the story index, and scores itself against each story *as a
   whole*: cosine with the story's TF-IDF centroid and with its entity-word signature
   (who, where), times a time term when both have publication times;
3. joins the best story if that score reaches ``join_min``, else starts a story of its own;
4. the story it is now in may merge with another of the stories it was scored against if
   the two stories' wholes agree (``merge_min``), and it is split-tested at checkpoint
   sizes: cut in two by 2-means over its members, the cut is kept if the two halves, as
   wholes, are less alike than ``split_max``.

No single article can merge two stories: an article only ever joins one story; stories
merge or split only on how their wholes compare.

Order independence: an engine fed the same articles in any order ends with exactly the
stories of the canonical pass. An article whose key is after every key processed so far is
simply processed; one that arrives *late* rolls the pass back (every decision from its key
on is undone from its undo record), is processed in its place, and the undone ones are
redone in key order. Everything a decision reads is exact: centroids and signatures are
sums of *integer* (fixed-point) vectors, so adding and removing members in any order gives
the same bits, hence the same comparisons on every instance and every replay; every choice
among equals is broken by key.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from .features import Features, dot, fixed_point
from .story_tuning import TUNED

__all__ = [
    "Neighbour",
    "StoryArticle",
    "StoryClusterer",
    "StoryParams",
    "norm2",
    "story_article",
]

DAY = 86_400.0

K = TypeVar("K")

Neighbour = tuple[str, float, bool]
"""(other article id, relation score, near-copy)."""


@dataclass(frozen=True)
class StoryParams:
    """How stories are decided; the defaults are the cross-validated ones (story_tuning)."""

    join_min: float = TUNED["join_min"]
    """An article joins the best-matching story at this similarity or more."""
    text: float = round(1 - TUNED["tokens"], 3)
    """Weight of the cosine with the story's TF-IDF centroid."""
    tokens: float = TUNED["tokens"]
    """Weight of the cosine with the story's entity-word signature (the words of names, so
    "Thompson" meets "Tony Thompson")."""
    entities: float = 0.0
    """Weight of the cosine with the story's typed-entity signature ("PERSON:Tony Thompson")."""
    decay_days: float = TUNED["decay_days"]
    """Time term exp(-gap / decay_days), gap = days between the article and the story's
    span (0 inside it). Only when both have publication times; 0 turns it off."""
    timed: bool = True
    """False: ignore publication times entirely."""
    link_min: float = 0.05
    """Related articles with at least this relation score nominate their story."""
    max_stories: int = 12
    """At most this many candidate stories are scored (the most strongly related first)."""
    merge_min: float = TUNED["merge_min"]
    """Two stories merge when their wholes are at least this similar (> 1: never)."""
    merge_candidates: int = 3
    """The story an article joined is merge-tested with this many of the other stories it
    was scored against, the best-scored first (bounds the work)."""
    split_max: float = TUNED["split_max"]
    """Split test: the cut is kept when its halves are less similar than this (-1: off)."""
    split_min_size: int = int(TUNED["split_min_size"])
    """Smallest half a split may leave; the first test is at twice this size."""
    split_growth: float = 0.5
    """A story is split-tested again each time it has grown by this share."""
    split_upto: int = 200
    """Stories larger than this are not split-tested any more (bounds the work)."""
    reach_days: float = TUNED["reach_days"]
    """Also look up older stories by key in the story index, up to this many days before the
    article (0: off). Only with publication times."""
    window_days: float = 14.0
    """The relation graph's window: the story index is read only before it."""

    @property
    def total(self) -> float:
        return self.text + self.entities + self.tokens


@dataclass(frozen=True, slots=True)
class StoryArticle:
    """What the story pass knows of an article: fixed-point vectors, exact to add and remove."""

    id: str
    key: tuple[float, str]
    """(ingest time, id): the canonical order."""
    time: float | None
    """Publication time, None when unknown."""
    terms: dict[int, int]
    entities: dict[str, int]
    tokens: dict[str, int]
    keys: tuple[int, ...] = ()
    """Index keys (for the story index)."""
    terms_norm2: int = 0
    entities_norm2: int = 0
    tokens_norm2: int = 0


def norm2(v: dict[K, int]) -> int:
    return sum(w * w for w in v.values())


def story_article(f: Features, *, entities: bool = False) -> StoryArticle:
    """The story pass's view of an article (its time only when it was published with one);
    its typed entities only when they weigh (``StoryParams.entities``): memory."""
    terms, tokens = f.terms, f.names  # shared, not copied: memory
    typed = fixed_point(f.entities) if entities else {}
    return StoryArticle(
        id=f.id,
        key=(f.ingested, f.id),
        time=f.time if f.published_at is not None else None,
        terms=terms,
        entities=typed,
        tokens=tokens,
        keys=f.keys,
        terms_norm2=norm2(terms),
        entities_norm2=norm2(typed),
        tokens_norm2=norm2(tokens),
    )


@dataclass(slots=True)
class Story:
    root: str
    """Id of its earliest article by key: the story's id."""
    members: list[str] = field(default_factory=list)
    terms: dict[int, int] = field(default_factory=dict)
    terms_norm2: int = 0
    entities: dict[str, int] = field(default_factory=dict)
    entities_norm2: int = 0
    tokens: dict[str, int] = field(default_factory=dict)
    tokens_norm2: int = 0
    times: list[float] = field(default_factory=list)
    """Sorted publication times of its members."""
    tested: int = 0
    """Its size at its last split test."""
    shared: bool = False
    """A one-article story uses its article's vectors (no copy until it grows)."""

    def _own(self) -> None:
        if self.shared:
            self.terms, self.entities = dict(self.terms), dict(self.entities)
            self.tokens = dict(self.tokens)
            self.shared = False

    def add(self, a: StoryArticle, sign: int = 1) -> None:
        if sign > 0 and not self.members:
            self.terms, self.terms_norm2 = a.terms, a.terms_norm2
            self.entities, self.entities_norm2 = a.entities, a.entities_norm2
            self.tokens, self.tokens_norm2 = a.tokens, a.tokens_norm2
            self.shared = True
            self.times = [a.time] if a.time is not None else []
            self.members.append(a.id)
            return
        if sign < 0 and self.members == [a.id]:
            self.terms, self.entities, self.tokens = {}, {}, {}
            self.terms_norm2 = self.entities_norm2 = self.tokens_norm2 = 0
            self.shared = False
            self.times = []
            self.members = []
            return
        self._own()
        self.terms_norm2 += _add(self.terms, a.terms, sign)
        self.entities_norm2 += _add(self.entities, a.entities, sign)
        self.tokens_norm2 += _add(self.tokens, a.tokens, sign)
        if a.time is not None:
            if sign > 0:
                bisect.insort(self.times, a.time)
            else:
                del self.times[bisect.bisect_left(self.times, a.time)]
        if sign > 0:
            self.members.append(a.id)
        else:
            self.members.remove(a.id)

    def absorb(self, other: Story, sign: int = 1) -> None:
        self._own()
        self.terms_norm2 += _add(self.terms, other.terms, sign)
        self.entities_norm2 += _add(self.entities, other.entities, sign)
        self.tokens_norm2 += _add(self.tokens, other.tokens, sign)
        if sign > 0:
            self.times = sorted(self.times + other.times)
            self.members.extend(other.members)
        else:
            for t in other.times:
                del self.times[bisect.bisect_left(self.times, t)]
            gone = set(other.members)
            self.members = [m for m in self.members if m not in gone]


def _add(into: dict[K, int], vector: dict[K, int], sign: int) -> int:
    """into += sign * vector; the change of into's squared norm (exact integers)."""
    delta = 0
    for k, w in vector.items():
        old = into.get(k, 0)
        new = old + sign * w
        delta += new * new - old * old
        if new:
            into[k] = new
        else:
            del into[k]
    return delta


def _cos(a: dict[K, int], a2: int, b: dict[K, int], b2: int) -> float:
    if not a2 or not b2:
        return 0.0
    return dot(a, b) / math.sqrt(a2 * b2)


def _gap_days(times: list[float], lo: float, hi: float) -> float:
    """Days between the interval [lo, hi] and the story's span."""
    if not times:
        return 0.0
    if hi < times[0]:
        return (times[0] - hi) / DAY
    if lo > times[-1]:
        return (lo - times[-1]) / DAY
    return 0.0


@dataclass(slots=True)
class _Decision:
    """One decision of the canonical pass, with what undoing it takes."""

    article: str
    story: str
    """Root joined (or created)."""
    created: bool
    merges: list[tuple[str, str, tuple[str, ...], int]]
    """(absorbed, into, its members, its ``tested``)."""
    splits: list[tuple[str, str, tuple[str, ...]]]
    """(story, new root, its members)."""
    tested: list[tuple[str, int]]
    """(story, its ``tested`` before each change), in order."""


class StoryClusterer:
    """The canonical single pass, kept up to date as articles arrive in any order.

    ``neighbours(id)`` gives every article related to ``id`` (both directions) with its
    relation score and whether it is a near-copy: the relation graph.
    """

    def __init__(self, params: StoryParams, neighbours: Callable[[str], Iterable[Neighbour]]):
        self.params = params
        self.neighbours = neighbours
        self.articles: dict[str, StoryArticle] = {}
        self.stories: dict[str, Story] = {}
        self.story_of: dict[str, str] = {}
        """Processed article id -> its story's root."""
        self._keys: list[tuple[float, str]] = []  # processed keys, sorted
        self._decisions: dict[str, _Decision] = {}
        self.redone = 0
        """Decisions redone because of late arrivals (a cost measure)."""
        self._before: dict[str, str | None] = {}  # story of each article touched, before
        self._tested_log: list[tuple[str, int]] = []
        self.story_index = StoryIndex() if params.reach_days and params.timed else None

    def __len__(self) -> int:
        return len(self.story_of)

    def add(self, article: StoryArticle) -> dict[str, str | None]:
        """Process an arrival; every article whose story it changed (itself included), with
        its story before (None for the new article): their owners write them again."""
        return self.add_many([article])

    def add_many(self, batch: list[StoryArticle]) -> dict[str, str | None]:
        """Process arrivals together: one rollback to the earliest key among them, then every
        undone or new decision in key order. The same stories as adding them one by one."""
        self._before = {}
        batch = [a for a in batch if self.articles.get(a.id) != a]  # a repeat changes nothing
        if not batch:
            return {}
        starts = []
        for article in batch:
            old = self.articles.get(article.id)
            starts.append(article.key if old is None else min(article.key, old.key))
        start = min(starts)
        undone = self._rollback(start) if self._keys and start <= self._keys[-1] else []
        for article in batch:
            self.articles[article.id] = article
        redo = sorted({self.articles[k[-1]].key for k in undone} | {a.key for a in batch})
        for key in redo:
            self._decide(self.articles[key[-1]])
        self.redone += len(redo) - len({a.id for a in batch})
        return {m: old for m, old in self._before.items() if self.story_of.get(m) != old}

    def representative(self, root: str, upto: int = 500) -> str:
        """The member nearest the story's centroid (text and entity words), earliest on ties;
        among its first ``upto`` members by key (bounds the work)."""
        story = self.stories[root]
        members = sorted((self.articles[m] for m in story.members), key=lambda a: a.key)[:upto]
        p = self.params
        scores = [
            p.text * _cos(a.terms, a.terms_norm2, story.terms, story.terms_norm2)
            + p.tokens * _cos(a.tokens, a.tokens_norm2, story.tokens, story.tokens_norm2)
            for a in members
        ]
        best = max(range(len(members)), key=lambda i: (scores[i], -i))
        return members[best].id

    def _set(self, article_id: str, root: str) -> None:
        if article_id not in self._before:
            self._before[article_id] = self.story_of.get(article_id)
        self.story_of[article_id] = root

    def _rollback(self, key: tuple[float, str]) -> list[tuple[float, str]]:
        """Undo every decision with a key >= ``key``, latest first; their keys."""
        cut = bisect.bisect_left(self._keys, key)
        undone = self._keys[cut:]
        for k in reversed(undone):
            self._undo(self._decisions.pop(k[-1]))
        del self._keys[cut:]
        return undone

    def _decide(self, a: StoryArticle) -> None:
        """One decision of the canonical pass: join, merge, split test."""
        p = self.params
        strongest: dict[str, float] = {}  # story -> its strongest relation with a
        copy_of: StoryArticle | None = None
        story_of, articles = self.story_of, self.articles
        for other, score, duplicate in self.neighbours(a.id):
            root = story_of.get(other)
            if root is None:  # not processed yet: after this one in the canonical order
                continue
            if duplicate:
                o = articles[other]
                if copy_of is None or o.key < copy_of.key:
                    copy_of = o
                score = 1.0
            if score >= p.link_min and score > strongest.get(root, -1.0):
                strongest[root] = score
        nominated = sorted(strongest, key=lambda r: (-strongest[r], articles[r].key))
        nominated = nominated[: p.max_stories]
        if self.story_index is not None and a.time is not None and len(nominated) < p.max_stories:
            for root in self.story_index.lookup(a, p, self):
                if root not in strongest:
                    nominated.append(root)
                    if len(nominated) >= p.max_stories:
                        break
        scored = sorted(
            ((self.similarity(a, self.stories[r]), r) for r in nominated),
            key=lambda sr: (-sr[0], articles[sr[1]].key),
        )
        if copy_of is not None:
            target = story_of[copy_of.id]
        elif scored and scored[0][0] >= p.join_min:
            target = scored[0][1]
        else:
            target = None
        created = target is None
        if target is None:
            target = a.id
            self.stories[target] = Story(root=a.id)
        self._tested_log = []
        self.stories[target].add(a)
        self._set(a.id, target)
        merges = self._merge(target, [r for _, r in scored if r != target][: p.merge_candidates])
        splits = self._split(story_of[a.id]) if p.split_max > -1 else []
        if self.story_index is not None:
            self.story_index.file(a)
        self._decisions[a.id] = _Decision(
            a.id, target, created, merges, splits, list(self._tested_log)
        )
        if self._keys and a.key < self._keys[-1]:
            bisect.insort(self._keys, a.key)
        else:
            self._keys.append(a.key)

    def similarity(self, a: StoryArticle, s: Story) -> float:
        """How well an article matches a story as a whole."""
        p = self.params
        sim = 0.0
        if p.text:
            sim += p.text * _cos(a.terms, a.terms_norm2, s.terms, s.terms_norm2)
        if p.tokens:
            sim += p.tokens * _cos(a.tokens, a.tokens_norm2, s.tokens, s.tokens_norm2)
        if p.entities:
            sim += p.entities * _cos(a.entities, a.entities_norm2, s.entities, s.entities_norm2)
        sim /= p.total
        if p.timed and p.decay_days and a.time is not None and s.times:
            sim *= math.exp(-_gap_days(s.times, a.time, a.time) / p.decay_days)
        return sim

    def story_similarity(self, s: Story, t: Story) -> float:
        """How alike two stories are as wholes (merge and split tests)."""
        p = self.params
        sim = p.text * _cos(s.terms, s.terms_norm2, t.terms, t.terms_norm2)
        if p.tokens:
            sim += p.tokens * _cos(s.tokens, s.tokens_norm2, t.tokens, t.tokens_norm2)
        if p.entities:
            sim += p.entities * _cos(s.entities, s.entities_norm2, t.entities, t.entities_norm2)
        sim /= p.total
        if p.timed and p.decay_days and s.times and t.times:
            sim *= math.exp(-_gap_days(t.times, s.times[0], s.times[-1]) / p.decay_days)
        return sim

    def _merge(self, root: str, others: list[str]) -> list[tuple[str, str, tuple[str, ...], int]]:
        """Merge the story ``root`` with every other candidate story whose whole agrees."""
        merges: list[tuple[str, str, tuple[str, ...], int]] = []
        if self.params.merge_min > 1:
            return merges
        pending = [r for r in others if r in self.stories]
        while pending:
            s = self.stories[root]
            best, other = min(
                ((-self.story_similarity(s, self.stories[r]), r) for r in pending),
                key=lambda sr: (sr[0], self.articles[sr[1]].key),
            )
            if -best < self.params.merge_min:
                break
            pending.remove(other)
            keep, gone = sorted((root, other), key=lambda r: self.articles[r].key)
            absorbed = tuple(self.stories[gone].members)
            self.stories[keep].absorb(self.stories[gone])
            for m in absorbed:
                self._set(m, keep)
            merges.append((gone, keep, absorbed, self.stories.pop(gone).tested))
            root = keep
        return merges

    def _split(self, root: str) -> list[tuple[str, str, tuple[str, ...]]]:
        p = self.params
        story = self.stories[root]
        n = len(story.members)
        if n < 2 * p.split_min_size or n > p.split_upto:
            return []
        if story.tested and n < story.tested * (1 + p.split_growth):
            return []
        self._tested_log.append((root, story.tested))
        story.tested = n
        members = sorted(story.members, key=lambda m: self.articles[m].key)
        halves = self._two_means(story, [self.articles[m] for m in members])
        if halves is None:
            return []
        one, two = halves
        if min(len(one.members), len(two.members)) < p.split_min_size:
            return []
        if self.story_similarity(one, two) >= p.split_max:
            return []
        cut = two if root in one.members else one
        new_root = min(cut.members, key=lambda m: self.articles[m].key)
        cut.root = new_root
        story.absorb(cut, -1)
        self._tested_log.append((root, story.tested))
        story.tested = len(story.members)
        cut.tested = len(cut.members)
        self.stories[new_root] = cut
        for m in cut.members:
            self._set(m, new_root)
        return [(root, new_root, tuple(cut.members))]

    def _two_means(self, story: Story, arts: list[StoryArticle]) -> tuple[Story, Story] | None:
        """Two groups of the story's articles (given in key order): spherical 2-means seeded
        by the member least like the whole and the member least like that one. A function of
        the set: centres are integer sums, so moving members in and out gives the same bits
        as building them again."""
        sim = self.similarity
        first = min(arts, key=lambda a: (sim(a, story), a.key))
        seed = Story(root="")
        seed.add(first)
        second = min((a for a in arts if a is not first), key=lambda a: (sim(a, seed), a.key))
        other = Story(root="")
        other.add(second)
        centres = (seed, other)
        assignment: list[int] | None = None
        for _ in range(10):
            new = [0 if sim(a, centres[0]) >= sim(a, centres[1]) else 1 for a in arts]
            if new == assignment:
                break
            if assignment is None:
                centres = (Story(root=""), Story(root=""))
                for a, g in zip(arts, new, strict=True):
                    centres[g].add(a)
            else:  # only the members that changed sides move
                for a, was, now in zip(arts, assignment, new, strict=True):
                    if was != now:
                        centres[was].add(a, -1)
                        centres[now].add(a)
            assignment = new
            if not centres[0].members or not centres[1].members:
                return None
        return centres

    def _undo(self, d: _Decision) -> None:
        if self.story_index is not None:
            self.story_index.unfile(self.articles[d.article])
        for story_root, new_root, members in reversed(d.splits):
            cut = self.stories.pop(new_root)
            self.stories[story_root].absorb(cut)
            for m in members:
                self._set(m, story_root)
        for root, tested in reversed(d.tested):
            self.stories[root].tested = tested
        for gone, keep, members, tested in reversed(d.merges):
            # The absorbed story, rebuilt from its members' integer vectors (exact), taken
            # back out of the one it went into.
            story = Story(root=gone)
            for m in members:
                story.add(self.articles[m])
                self._set(m, gone)
            story.tested = tested
            self.stories[keep].absorb(story, -1)
            self.stories[gone] = story
        story = self.stories[d.story]
        story.add(self.articles[d.article], -1)
        self._before.setdefault(d.article, self.story_of[d.article])
        del self.story_of[d.article]
        if d.created:
            del self.stories[d.story]


class StoryIndex:
    """Articles by index key and week, for stories older than the relation window: an
    article whose related articles (14 days) do not reach its story finds it here. Postings
    hold article keys (story ids change on merges and splits; an article's story is looked
    up when read), at most CAP of the latest per key and week are read."""

    WEEK = 7 * DAY
    CAP = 8

    def __init__(self) -> None:
        self.postings: dict[tuple[int, int], list[tuple[float, str]]] = {}

    def file(self, a: StoryArticle) -> None:
        if a.time is None:
            return
        week = int(a.time // self.WEEK)
        for k in a.keys:
            bisect.insort(self.postings.setdefault((k, week), []), a.key)

    def unfile(self, a: StoryArticle) -> None:
        if a.time is None:
            return
        week = int(a.time // self.WEEK)
        for k in a.keys:
            keys = self.postings[(k, week)]
            del keys[bisect.bisect_left(keys, a.key)]

    def lookup(self, a: StoryArticle, p: StoryParams, clusterer: StoryClusterer) -> list[str]:
        """Stories with an article sharing a key, from reach_days to window_days before the
        article, the most keys shared first (ties by the story's key)."""
        assert a.time is not None
        last = int((a.time - p.window_days * DAY) // self.WEEK)
        first = int((a.time - p.reach_days * DAY) // self.WEEK)
        hits: Counter[str] = Counter()
        story_of = clusterer.story_of
        for k in a.keys:
            for w in range(first, last + 1):
                keys = self.postings.get((k, w))
                if keys:
                    for key in keys[-self.CAP :]:
                        hits[story_of[key[-1]]] += 1
        arts = clusterer.articles
        return sorted(hits, key=lambda r: (-hits[r], arts[r].key))
