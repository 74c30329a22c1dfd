"""Stories decided by stories as wholes: same-kind events kept apart, any arrival order."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from newswire_contracts import ArticleEnriched, Entity, article_id
from newswire_relate.domain.relator import Relator
from newswire_relate.domain.stories import StoryArticle, StoryClusterer, StoryParams, norm2

pytestmark = pytest.mark.unit

T0 = datetime(2025, 9, 1, 6, tzinfo=UTC)

CHILE = [
    "A magnitude 7.1 earthquake struck off the coast of Chile near Valparaiso on Monday, shaking "
    "buildings in Santiago and prompting a tsunami warning, the seismology office said.",
    "Residents of Valparaiso fled to the hills after the Chilean earthquake; President Boric said "
    "two people died in Vina del Mar and power was cut across the Valparaiso region.",
    "Chile lifted its tsunami warning for the Valparaiso coast hours after the magnitude 7.1 quake; "
    "Boric visited Vina del Mar, where a church tower collapsed.",
    "Engineers inspected the port of Valparaiso after Monday's earthquake in Chile; Boric promised "
    "aid to Vina del Mar families whose homes were damaged.",
]
CHILE_ENTITIES = [
    ("Chile", "GPE", 1.0),
    ("Valparaiso", "GPE", 0.9),
    ("Vina del Mar", "GPE", 0.6),
    ("Gabriel Boric", "PERSON", 0.5),
]
SULAWESI = [
    "A magnitude 7.5 earthquake struck Sulawesi in Indonesia on Wednesday, and a tsunami hit the "
    "city of Palu, the disaster agency said.",
    "Rescuers in Palu searched collapsed hotels after the Sulawesi earthquake; President Prabowo "
    "said hundreds were missing and the airport at Palu was closed.",
    "The tsunami that followed the magnitude 7.5 quake in Sulawesi swept away homes along Palu bay; "
    "Prabowo flew to Donggala, where the military set up field hospitals.",
    "Aid reached Donggala and Palu three days after the Indonesian earthquake; Prabowo said the "
    "Sulawesi death toll had risen above four hundred.",
]
SULAWESI_ENTITIES = [
    ("Indonesia", "GPE", 1.0),
    ("Sulawesi", "GPE", 0.9),
    ("Palu", "GPE", 0.8),
    ("Donggala", "GPE", 0.5),
    ("Prabowo", "PERSON", 0.5),
]
# One article about both: under connected components of strong relations it joined them.
BRIDGE = (
    "Two earthquakes in one week: the magnitude 7.1 quake off Chile near Valparaiso and the "
    "magnitude 7.5 quake and tsunami in Sulawesi near Palu revive questions about tsunami warnings."
)


def article(
    slug: str, text: str, hours: float, entities: list[tuple[str, str, float]]
) -> ArticleEnriched:
    url = f"https://news.example/{slug}"
    return ArticleEnriched(
        id=article_id(url),
        url=url,
        source=slug.split("-")[0],
        title=text[:80],
        text=text,
        published_at=T0 + timedelta(hours=hours),
        ingested_at=T0 + timedelta(hours=hours),
        content_hash="0" * 64,
        language="en",
        entities=tuple(Entity(name=n, type=t, count=1, salience=s) for n, t, s in entities),
        enriched_at=T0,
    )


def quakes() -> tuple[list[ArticleEnriched], list[ArticleEnriched], ArticleEnriched]:
    chile = [article(f"chile{n}-q", t, 2 * n, CHILE_ENTITIES) for n, t in enumerate(CHILE)]
    sulawesi = [
        article(f"sulawesi{n}-q", t, 48 + 2 * n, SULAWESI_ENTITIES) for n, t in enumerate(SULAWESI)
    ]
    bridge = article("bridge-q", BRIDGE, 60, CHILE_ENTITIES[:2] + SULAWESI_ENTITIES[:3])
    return chile, sulawesi, bridge


def built(order: list[ArticleEnriched], **kwargs: bool) -> Relator:
    relator = Relator()
    for item in order:
        relator.add(item, **kwargs)
    return relator


def test_an_article_about_two_same_kind_events_does_not_merge_them() -> None:
    chile, sulawesi, bridge = quakes()
    relator = built([*chile, *sulawesi, bridge])
    related = {r.id for r in relator.related(bridge.id)}
    assert chile[0].id in related, "it resembles both events"
    assert sulawesi[0].id in related, "it resembles both events"
    chile_stories = {relator.story_id(a.id) for a in chile}
    sulawesi_stories = {relator.story_id(a.id) for a in sulawesi}
    assert chile_stories == {chile[0].id}
    assert sulawesi_stories == {sulawesi[0].id}
    assert relator.story_id(bridge.id) in {chile[0].id, sulawesi[0].id, bridge.id}
    story = relator.story(chile[0].id)
    assert story is not None
    assert set(story.article_ids) >= {a.id for a in chile}
    assert not {a.id for a in sulawesi} & set(story.article_ids)


def stories_of(relator: Relator) -> dict[str, frozenset[str]]:
    relator.settle_stories()
    return {root: frozenset(s.members) for root, s in relator.stories.stories.items() if s.members}


def test_any_arrival_order_gives_the_same_stories() -> None:
    chile, sulawesi, bridge = quakes()
    everything = [*chile, *sulawesi, bridge]
    reference = built(everything)
    expected = stories_of(reference)
    rng = random.Random(15)
    orders = [everything[::-1]]
    for _ in range(6):
        order = everything[:]
        rng.shuffle(order)
        orders.append(order)
    for order in orders:
        assert stories_of(built(order)) == expected
        # Deferred (a start-up replay): placed in one pass when stories are next read.
        assert stories_of(built(order, defer_stories=True)) == expected
        # Redelivered events change nothing.
        again = built(order + order[:4])
        assert stories_of(again) == expected
        assert {a.id: again.story_id(a.id) for a in everything} == {
            a.id: reference.story_id(a.id) for a in everything
        }


def test_a_replay_is_placed_in_steps_with_the_same_stories() -> None:
    chile, sulawesi, bridge = quakes()
    everything = [*chile, *sulawesi, bridge]
    expected = stories_of(built(everything))
    replay = built(everything[::-1], defer_stories=True)
    steps = list(replay.settle_in_steps(size=3))
    assert len(steps) == 3, "nine articles, three at a time"
    assert replay.stories.redone == 0, "earliest keys first: no step rolls another back"
    assert stories_of(replay) == expected


def synthetic(n: int, seed: int) -> tuple[list[StoryArticle], dict[str, list]]:
    """Articles of a few overlapping vocabularies, and relations between them: enough like
    and unlike each other that joins, merges and splits all happen."""
    rng = random.Random(seed)
    arts, vectors = [], []
    for i in range(n):
        group = rng.randrange(4)
        terms = {100 * group + rng.randrange(12): rng.randrange(1, 60_000) for _ in range(8)}
        terms.update({1000 + rng.randrange(6): rng.randrange(1, 30_000) for _ in range(2)})
        tokens = {f"g{group}w{rng.randrange(3)}": rng.randrange(1, 60_000) for _ in range(2)}
        time = float(i // 3 * 3600)  # equal times: the id breaks the tie
        arts.append(
            StoryArticle(
                id=f"a{i:03d}",
                key=(time, f"a{i:03d}"),
                time=time,
                terms=terms,
                entities={},
                tokens=tokens,
                terms_norm2=norm2(terms),
                tokens_norm2=norm2(tokens),
            )
        )
        vectors.append(set(terms))
    neighbours: dict[str, list] = {a.id: [] for a in arts}
    for i, a in enumerate(arts):
        for j in range(i):
            shared = len(vectors[i] & vectors[j]) / len(vectors[i] | vectors[j])
            if shared >= 0.1:
                b = arts[j]
                score, copy = round(shared, 4), shared > 0.9
                neighbours[a.id].append((b.id, score, copy))
                neighbours[b.id].append((a.id, score, copy))
    return arts, neighbours


# Far more merges and splits than the tuned setting makes: every undo path runs.
STRESS = StoryParams(
    join_min=0.12, merge_min=0.5, split_max=0.45, split_min_size=2, reach_days=0.5, window_days=0
)


def state(c: StoryClusterer) -> dict[str, tuple]:
    return {
        root: (sorted(s.members), s.terms, s.tokens, s.times, s.tested)
        for root, s in c.stories.items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollbacks_reach_the_canonical_pass_bit_for_bit(seed: int) -> None:
    arts, neighbours = synthetic(90, seed)
    in_order = StoryClusterer(STRESS, lambda i: neighbours[i])
    for a in sorted(arts, key=lambda a: a.key):
        in_order.add(a)
    assert in_order.redone == 0
    expected = state(in_order)
    assert len(expected) > 3
    assert any(len(m[0]) > 4 for m in expected.values())
    merges = sum(len(d.merges) for d in in_order._decisions.values())
    splits = sum(len(d.splits) for d in in_order._decisions.values())
    assert merges, "the setting must exercise merges"
    assert splits, "the setting must exercise splits"
    rng = random.Random(seed)
    for _ in range(3):
        order = arts[:]
        rng.shuffle(order)
        shuffled = StoryClusterer(STRESS, lambda i: neighbours[i])
        for a in order:
            shuffled.add(a)
        assert shuffled.redone > 0
        assert state(shuffled) == expected
        assert shuffled.story_of == in_order.story_of
        batched = StoryClusterer(STRESS, lambda i: neighbours[i])
        for start in range(0, len(order), 7):  # as a handler batch: one rollback each
            batched.add_many(order[start : start + 7])
        assert state(batched) == expected


def test_a_new_version_is_placed_as_if_it_had_always_been_so() -> None:
    arts, neighbours = synthetic(60, 7)
    first = StoryClusterer(STRESS, lambda i: neighbours[i])
    for a in arts:
        first.add(a)
    moved_back = replace(arts[5], key=(0.0, arts[5].id), time=0.0)
    first.add(moved_back)
    fresh = StoryClusterer(STRESS, lambda i: neighbours[i])
    for a in [moved_back, *arts[:5], *arts[6:]]:
        fresh.add(a)
    assert state(first) == state(fresh)


def test_a_story_has_a_representative_title_its_names_and_a_timeline() -> None:
    from newswire_relate.domain.documents import story_document

    chile, sulawesi, bridge = quakes()
    relator = built([*chile, *sulawesi, bridge])
    story = relator.story(chile[0].id)
    assert story is not None
    assert story.representative in {a.id for a in chile}
    assert story.title == next(a.title for a in chile if a.id == story.representative)
    assert story.places[:2] == ("Chile", "Valparaiso")
    assert story.people == ("Gabriel Boric",)
    assert story.organisations == ()
    assert story.first_seen == T0
    assert story.article_ids[: len(chile)] == tuple(a.id for a in chile), "in time order"
    long = "Valparaiso shook. " * 80
    document = story_document(relator, story, T0, long)
    assert document.summary.endswith("…")
    assert len(document.summary) <= 601
    assert document.people == ("Gabriel Boric",)
    assert document.article_count == len(story.article_ids)


def test_a_story_event_tells_subscribers_what_the_story_page_shows() -> None:
    from newswire_relate.domain.documents import story_document, story_event

    chile, sulawesi, bridge = quakes()
    relator = built([*chile, *sulawesi, bridge])
    story = relator.story(chile[0].id)
    assert story is not None
    document = story_document(relator, story, T0, "Valparaiso shook at dawn.")
    event = story_event(document, story.article_ids)
    assert event.title == document.title
    assert event.summary == "Valparaiso shook at dawn."
    assert event.people == ("Gabriel Boric",)
    assert event.places[:2] == ("Chile", "Valparaiso")
    assert event.organisations == ()
    assert event.article_ids == story.article_ids


def test_a_related_list_says_which_entries_are_in_the_same_story() -> None:
    chile, sulawesi, bridge = quakes()
    relator = built([*chile, *sulawesi, bridge])
    mine = relator.story_id(bridge.id)
    items = relator.related(bridge.id)
    assert {i.same_story for i in items} == {True, False}, "its story and background"
    for item in items:
        assert item.same_story == (relator.story_id(item.id) == mine)


def test_whoever_lists_an_article_that_moved_story_is_written_again() -> None:
    chile, sulawesi, _ = quakes()
    relator = built([*chile[1:], *sulawesi])
    changes = relator.add(chile[0])  # late and earliest: its story is renamed after it
    slots = relator.index.slot_of
    moved = {relator.id_of(s) for s in changes.moved}
    assert moved >= {a.id for a in chile}
    touched = set(relator.touched_by(chile[0].id).articles)
    for other in chile[1:]:
        listing = {
            a.id for a in chile + sulawesi if other.id in {r.id for r in relator.related(a.id)}
        }
        assert listing <= touched | {chile[0].id}
    assert chile[1].id in relator.touched_by(chile[0].id).stories, "the story id it replaced"
    assert slots[chile[0].id] in changes.stories


def test_what_this_instance_wrote_is_due_again_when_its_own_view_of_it_changes() -> None:
    chile, _, _ = quakes()
    owner = built(chile[1:])
    owner.written(chile[1].id)
    owner.story_written(owner.story_id(chile[1].id))
    assert owner.story_id(chile[1].id) == chile[1].id
    # Another instance reads the late, earliest article in the same step as the others and
    # places them together: in its view nothing moved, so its handler asks for no move.
    other = built([*chile[1:], chile[0]], defer_stories=True)
    other.settle_stories()
    caused = other.changes_caused_by(chile[0].id)
    assert caused is not None
    assert other.index.slot_of[chile[1].id] not in caused.moved
    # The owner's own view: the story is renamed after the late article.
    owner.add(chile[0])
    changed = owner.drain_changed(lambda _: True, upto=owner.generation)
    assert chile[1].id in changed.articles, "its story id changed"
    assert chile[1].id in changed.stories, "the story named after it now says where it went"
    # Only what was written here: chile[2] was placed and moved too, but never written here.
    assert chile[2].id not in changed.articles
    assert owner.drain_changed(lambda _: True, upto=owner.generation).articles == ()


def test_only_changes_before_the_cut_and_of_documents_still_mine_are_due() -> None:
    chile, sulawesi, bridge = quakes()
    relator = built([*chile, *sulawesi])
    for article in (*chile, *sulawesi):
        relator.written(article.id)
    cut = relator.generation
    relator.add(bridge)  # joins the related lists of both events' articles
    assert relator.drain_changed(lambda _: True, upto=cut).articles == ()
    mine = {a.id for a in chile}
    changed = relator.drain_changed(mine.__contains__, upto=relator.generation)
    assert changed.articles, "the bridge changed some related lists"
    assert set(changed.articles) <= mine
    assert relator.drain_changed(lambda _: True, upto=relator.generation).articles == ()
    # Written again as the view has it now: not due any more; not written: due again.
    relator.changed_again(changed)
    relator.written(changed.articles[0])
    again = relator.drain_changed(lambda _: True, upto=relator.generation)
    assert again.articles == changed.articles[1:]


def test_the_last_change_before_a_quiet_spell_is_due_at_the_next_round() -> None:
    # An idle round takes what changed up to the generation of the round before; with
    # nothing after the last change the generation stays where that change left it.
    chile, sulawesi, bridge = quakes()
    relator = built([*chile, *sulawesi])
    for article in (*chile, *sulawesi):
        relator.written(article.id)
    relator.add(bridge)
    mark = relator.generation  # the round after the change; nothing arrives after it
    assert relator.drain_changed(lambda _: True, upto=mark).articles, "due now, not never"
    assert not relator.has_changed()


def test_articles_taken_in_as_they_came_roll_nothing_back_whenever_published() -> None:
    # A backfill: the older the article, the later it came (publication order reversed).
    chile, sulawesi, bridge = quakes()
    came = [*reversed(chile), *reversed(sulawesi), bridge]
    taken = [
        a.model_copy(update={"ingested_at": T0 + timedelta(days=30, minutes=n)})
        for n, a in enumerate(came)
    ]
    relator = built(taken)
    assert relator.stories.redone == 0
    assert len({relator.story_id(a.id) for a in chile}) == 1
    assert relator.story_id(chile[0].id) == chile[-1].id, "named after the first taken in"


def test_an_edit_of_a_storys_first_article_keeps_the_storys_id() -> None:
    chile, sulawesi, _ = quakes()
    relator = built([*chile, *sulawesi])
    assert relator.story_id(chile[1].id) == chile[0].id
    edit = chile[0].model_copy(
        update={
            "version": 2,
            "text": chile[0].text + " Rescuers reached the last village on Tuesday.",
            "ingested_at": T0 + timedelta(days=3),
            "first_ingested_at": chile[0].ingested_at,
        }
    )
    relator.add(edit)
    assert {relator.story_id(a.id) for a in chile} == {chile[0].id}
    # Without the first ingestion (events from before it was carried) the edit goes last.
    legacy = built([*chile, *sulawesi])
    legacy.add(edit.model_copy(update={"first_ingested_at": None}))
    assert legacy.story_id(chile[1].id) == chile[1].id
