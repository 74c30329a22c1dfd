"""The relation engine: articles in, related lists and stories out. No I/O.

Related lists come from the relation graph; stories from the story pass over it (see
stories.py), which ends the same whatever the order articles arrive in.

Every relate instance feeds every enriched article into its own Relator (from Kafka); all
of them reach the same state. The consumer group only decides which instance writes which
article and story.

They reach it by different paths, though: each instance reads the partitions in its own
interleaving and places articles in stories in batches of its own. What one article's
arrival changed (``Changes``, which its handler asks to have written again) is therefore
only what it changed *in the handler's view*, and an owner may have written a document
from a view that differs in ways no handler sees: two articles arriving together in one
view, apart in another. So the Relator also keeps, for the documents this instance wrote,
whether its own view of them changed since (``written``, ``drain_changed``): the owner
writes them again itself.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from newswire_contracts import ArticleEnriched, RelatedArticle

from .features import Features, features_of
from .graph import Changes, RelationGraph
from .index import CandidateIndex
from .scoring import Weights, relation_between
from .stories import Neighbour, StoryArticle, StoryClusterer, StoryParams, story_article

__all__ = ["Changed", "Relator", "StorySummary", "Touched"]


@dataclass(frozen=True)
class StorySummary:
    id: str
    title: str
    """Its most representative headline: that of the article nearest the story's centroid."""
    representative: str
    """The id of that article (its summary is the story's)."""
    entities: tuple[str, ...]
    people: tuple[str, ...]
    places: tuple[str, ...]
    organisations: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    article_ids: tuple[str, ...]
    """In time order: the story's timeline."""


# Who, where and which organisations a story is about, by entity type.
_GROUPS = {"PERSON": "people", "GPE": "places", "LOC": "places", "ORG": "organisations"}
TOP_NAMES = 5


@dataclass(frozen=True)
class Touched:
    """The other articles and stories an article changed: their owners must write them again."""

    articles: tuple[str, ...]
    stories: tuple[str, ...]


@dataclass(frozen=True)
class Changed:
    """Documents this instance wrote whose content in its view changed since: ids."""

    articles: tuple[str, ...]
    stories: tuple[str, ...]


class Relator:
    def __init__(
        self,
        weights: Weights | None = None,
        *,
        stories: StoryParams | None = None,
        window_days: int = 14,
        keep: int = 20,
        remembered: int = 100_000,
        summaries_kept: int = 20_000,
    ) -> None:
        self.weights = weights or Weights()
        self.index = CandidateIndex(window_days=window_days)
        self.graph = RelationGraph(self.index, keep=keep)
        self.stories = StoryClusterer(stories or StoryParams(), self._neighbours)
        # Articles indexed but not yet placed in a story (``defer_stories``), in arrival order.
        self._pending: dict[str, None] = {}
        # What each article's arrival changed, until its owner has written it down.
        self._changes: OrderedDict[str, Changes] = OrderedDict()
        self._remembered = remembered
        self._summaries: OrderedDict[str, str] = OrderedDict()
        self._summaries_kept = summaries_kept
        # Slots of the documents written from this view (at most ``remembered`` of each, the
        # latest), and of those whose content in the view changed since they were computed,
        # with the view's generation (a count of its changes) when that happened.
        self.generation = 0
        self._written: OrderedDict[int, None] = OrderedDict()
        self._written_stories: OrderedDict[int, None] = OrderedDict()
        self._changed: dict[int, int] = {}
        self._changed_stories: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.index)

    def add(self, article: ArticleEnriched, *, defer_stories: bool = False) -> Changes:
        # A story shows its representative's summary: kept here for the latest articles, it
        # need not be read back from the store (about one read an article).
        self._summaries[article.id] = article.summary or article.text[:1000]
        self._summaries.move_to_end(article.id)
        while len(self._summaries) > self._summaries_kept:
            self._summaries.popitem(last=False)
        return self.add_features(features_of(article), defer_stories=defer_stories)

    def summary_of(self, article_id: str) -> str | None:
        """The article's summary as relate stores it (else the start of its text), while it
        is among the latest ``summaries_kept`` added; None after that."""
        return self._summaries.get(article_id)

    def add_features(self, features: Features, *, defer_stories: bool = False) -> Changes:
        """Relate an arrival. With ``defer_stories`` its story is decided when stories are
        next read, with every other deferred article, in key order: a start-up replay, read
        from the partitions in whatever interleaving, then costs one pass with no rollback."""
        slot, _ = self.index.add(features)
        relations = [
            (other, relation_between(features, self.index.articles[other], self.weights))
            for other in self.index.candidates(slot)
        ]
        changes = self.graph.add(slot, relations, related_min=self.weights.related_min)
        self._note_changed(changes.related)
        # An event delivered twice is indexed twice, the second time changing nothing: what
        # the first arrival changed must still reach the writer of the article.
        earlier = self._changes.get(features.id)
        if earlier is not None:
            changes.related |= earlier.related
            changes.stories |= earlier.stories
            changes.moved |= earlier.moved
        self._changes[features.id] = changes
        self._changes.move_to_end(features.id)
        while len(self._changes) > self._remembered:
            self._changes.popitem(last=False)
        self._pending[features.id] = None
        if not defer_stories:
            self.settle_stories()
        return changes

    def load(self, features: Features) -> None:
        """File an article without relating it (for building large benchmark corpora); its
        story is decided from the older stories its keys find (none from relations)."""
        slot, new = self.index.add(features)
        if new:
            self.graph.add(slot, [], related_min=self.weights.related_min)
            self.stories.add(self._story_article(features))

    def settle_stories(self) -> None:
        """Place every deferred article in its story, in key order with one rollback at
        most. Each new article's own placement is recorded as its change; articles already
        placed that moved are recorded as changes of every article of the batch (a batch is
        one article, except while deferred)."""
        if self._pending:
            self._settle(list(self._pending))

    def settle_in_steps(self, size: int = 1_000) -> Iterator[None]:
        """The same, ``size`` articles at a time, the earliest keys first (so no step rolls
        back another), yielding between steps: placing a start-up replay of a million
        articles takes minutes, and the caller's event loop must keep running meanwhile.
        Articles deferred during the steps are left for the next call."""
        articles, slot_of = self.index.articles, self.index.slot_of
        ids = sorted(self._pending, key=lambda i: (articles[slot_of[i]].ingested, i))
        for start in range(0, len(ids), size):
            step = [i for i in ids[start : start + size] if i in self._pending]
            if step:
                self._settle(step)
            yield

    def _settle(self, ids: list[str]) -> None:
        articles, slot_of = self.index.articles, self.index.slot_of
        batch = [self._story_article(articles[slot_of[i]]) for i in ids]
        moved = self.stories.add_many(batch)
        for i in ids:
            del self._pending[i]
        story_of = self.stories.story_of
        self._note_moved(moved)
        changed = [c for c in (self._changes.get(a.id) for a in batch) if c is not None]
        for member, before in moved.items():
            slot, now = slot_of[member], slot_of[story_of[member]]
            if before is None:  # placed for the first time: its own arrival's change
                own = self._changes.get(member)
                if own is not None:
                    own.moved.add(slot)
                    own.stories.add(now)
                continue
            for changes in changed:
                changes.moved.add(slot)
                changes.stories |= {now, slot_of[before]}

    def _note_changed(self, slots: Iterable[int]) -> None:
        self.generation += 1
        self._changed.update((s, self.generation) for s in slots if s in self._written)

    def _note_moved(self, moved: dict[str, str | None]) -> None:
        """A member that moved changes its own document and those listing it (whether it
        is in their story); the stories it left and joined, and the one named after it if
        that merged (which says where it went). A first placement: the story it joined."""
        slot_of, story_of = self.index.slot_of, self.stories.story_of
        self.generation += 1
        for member, before in moved.items():
            stories = [slot_of[story_of[member]]]
            if before is not None:
                slot = slot_of[member]
                self._note_changed((slot, *self.graph.related_to(slot)))
                stories += (slot_of[before], slot)
            self._changed_stories.update(
                (s, self.generation) for s in stories if s in self._written_stories
            )

    def written(self, article_id: str) -> None:
        """This instance is writing the article as its view has it now (call it when the
        document is computed: a change after that, during the write, counts)."""
        self._remember(self._written, self._changed, self.index.slot_of[article_id])

    def story_written(self, story_id: str) -> None:
        """This instance is writing the story, or that it merged, as its view has it now."""
        self._remember(self._written_stories, self._changed_stories, self.index.slot_of[story_id])

    def _remember(
        self, written: OrderedDict[int, None], changed: dict[int, int], slot: int
    ) -> None:
        written[slot] = None
        written.move_to_end(slot)
        if len(written) > self._remembered:
            written.popitem(last=False)
        changed.pop(slot, None)

    def has_changed(self) -> bool:
        return bool(self._changed or self._changed_stories or self._pending)

    def drain_changed(self, mine: Callable[[str], bool], *, upto: int) -> Changed:
        """The documents written here that changed since, at generation ``upto`` or earlier,
        and are still ``mine`` (the others have another writer now); forgotten once returned.

        Later changes are left for the next call: most are what an article this instance is
        about to handle changed, and its handler writes them anyway.
        """
        self.settle_stories()
        found = []
        for changed in (self._changed, self._changed_stories):
            due = [slot for slot, generation in changed.items() if generation <= upto]
            for slot in due:
                del changed[slot]
            found.append(sorted(i for i in map(self.id_of, due) if mine(i)))
        return Changed(tuple(found[0]), tuple(found[1]))

    def changed_again(self, changed: Changed) -> None:
        """Documents drained that could not be written: changed still (as of now)."""
        slot_of = self.index.slot_of
        self.generation += 1
        self._changed.update((slot_of[i], self.generation) for i in changed.articles)
        self._changed_stories.update((slot_of[i], self.generation) for i in changed.stories)

    def _story_article(self, features: Features) -> StoryArticle:
        return story_article(features, entities=self.stories.params.entities > 0)

    def _neighbours(self, article_id: str) -> list[Neighbour]:
        articles = self.index.articles
        return [
            (articles[other].id, relation.score, relation.duplicate)
            for other, relation in self.graph.relations(self.index.slot_of[article_id]).items()
        ]

    def knows(self, article_id: str) -> bool:
        return article_id in self.index.slot_of

    def changes_caused_by(self, article_id: str) -> Changes | None:
        self.settle_stories()
        return self._changes.get(article_id)

    def touched_by(self, article_id: str, *, replayed: bool = False) -> Touched:
        """What the article's insertion into the index changed, plus every article related to
        it: an article indexed before this one but handled earlier still gets this one into
        its list. After a restart (``replayed``: indexed in the start-up replay, whose order
        across partitions can differ from the order of first handling) the members of its
        story too, since a merge it took part in may have been recorded as caused by an
        article that is not handled again.
        """
        slot = self.index.slot_of[article_id]
        articles = self.neighbours(article_id)
        changes = self.changes_caused_by(article_id)
        stories = {self.index.slot_of[self.story_id(article_id)]}
        if changes is not None:
            articles |= changes.related | changes.moved
            stories |= changes.stories
            # Whoever lists a moved article says whether it is in their story: they change too.
            for moved in changes.moved - {slot}:
                articles |= self.graph.related_to(moved)
        if replayed:
            articles.update(self.story_members(article_id))
        articles.discard(slot)
        return Touched(
            articles=tuple(self.id_of(other) for other in sorted(articles)),
            stories=tuple(self.id_of(story) for story in sorted(stories)),
        )

    def neighbours(self, article_id: str) -> set[int]:
        """Slots of every article related to this one (scored, whichever arrived last): the
        only articles whose related lists this one can be in or push something out of."""
        return self.graph.related_to(self.index.slot_of[article_id])

    def story_members(self, article_id: str) -> list[int]:
        """Slots of every article in this article's story."""
        members = self.stories.stories[self.story_id(article_id)].members
        return [self.index.slot_of[m] for m in members]

    def id_of(self, slot: int) -> str:
        return self.index.articles[slot].id

    def related(self, article_id: str, limit: int = 20) -> tuple[RelatedArticle, ...]:
        """Best first, each saying whether it is in the article's story (or background)."""
        self.settle_stories()
        story_of = self.stories.story_of
        story = story_of[article_id]
        slot = self.index.slot_of[article_id]
        items = []
        for negative_score, _, other in self.graph.related.get(slot, [])[:limit]:
            features = self.index.articles[other]
            relation = self.graph.relation(slot, other)
            items.append(
                RelatedArticle(
                    id=features.id,
                    title=features.title,
                    url=features.url,
                    source=features.source,
                    published_at=features.published_at,
                    score=-negative_score,
                    relation="duplicate" if relation.duplicate else "related",
                    shared_entities=relation.shared_entities,
                    same_story=story_of.get(features.id) == story,
                )
            )
        return tuple(items)

    def duplicate_of(self, article_id: str) -> str | None:
        """The earliest article this one is a near-copy of, if any."""
        slot = self.index.slot_of[article_id]
        mine = self.index.articles[slot]
        copies = [
            self.index.articles[other]
            for _, _, other in self.graph.related.get(slot, [])
            if self.graph.relation(slot, other).duplicate
        ]
        earlier = [f for f in copies if (f.time, f.id) < (mine.time, mine.id)]
        return min(earlier, key=lambda f: (f.time, f.id)).id if earlier else None

    def story_id(self, article_id: str) -> str:
        """The id of the article's story: its earliest article by (time, id)."""
        self.settle_stories()
        return self.stories.story_of[article_id]

    def story(self, story_id: str) -> StorySummary | None:
        """The story of that id, or None if it merged into another (see story_id)."""
        self.settle_stories()
        story = self.stories.stories.get(story_id)
        if story is None:
            return None
        index = self.index
        members = sorted(
            (index.articles[index.slot_of[m]] for m in story.members), key=lambda f: (f.time, f.id)
        )
        weights: Counter[str] = Counter()
        groups: dict[str, Counter[str]] = {g: Counter() for g in set(_GROUPS.values())}
        for features in members:
            for key, salience in features.entities.items():
                kind, name = key.split(":", 1)
                if kind != "NORP":
                    weights[name] += salience
                if kind in _GROUPS:
                    groups[_GROUPS[kind]][name] += salience

        def top(counts: Counter[str], n: int) -> tuple[str, ...]:
            return tuple(
                name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
            )

        representative = self.stories.representative(story_id)
        return StorySummary(
            id=story_id,
            title=index.articles[index.slot_of[representative]].title,
            representative=representative,
            entities=top(weights, 10),
            people=top(groups["people"], TOP_NAMES),
            places=top(groups["places"], TOP_NAMES),
            organisations=top(groups["organisations"], TOP_NAMES),
            first_seen=datetime.fromtimestamp(members[0].time, UTC),
            last_seen=datetime.fromtimestamp(members[-1].time, UTC),
            article_ids=tuple(f.id for f in members),
        )
