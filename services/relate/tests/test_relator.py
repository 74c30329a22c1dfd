"""The relation engine: related lists, near-duplicates and stories, order-independent."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from newswire_contracts import ArticleEnriched, Entity, article_id
from newswire_relate.domain.relator import Relator

pytestmark = pytest.mark.unit

T0 = datetime(2025, 7, 8, 9, tzinfo=UTC)

SUMMIT = (
    "Russian foreign minister Sergei Lavrov arrived in Pyongyang for talks with North Korean leader "
    "Kim Jong Un about military cooperation, the deployment of workers to the Kursk region and the "
    "strategic partnership treaty signed last year. {extra}"
)
SUMMIT_OTHER = (
    "Kim Jong Un welcomed Sergei Lavrov in Pyongyang on Friday. The Kremlin said the treaty on military "
    "cooperation and the Kursk deployment were on the agenda, and Lavrov praised the strategic partnership. {extra}"
)
SUMMIT_THIRD = (
    "Analysts in Seoul say the Pyongyang talks between Lavrov and Kim Jong Un could bring more North Korean "
    "troops and workers to the Kursk region, deepening the military partnership with Moscow. {extra}"
)
QUAKE = (
    "A magnitude 7.1 earthquake struck off the coast of Chile near Valparaiso, shaking buildings in "
    "Santiago and prompting a tsunami warning for the Pacific coast, seismologists said. {extra}"
)
QUAKE_OTHER = (
    "Residents of Valparaiso and Santiago fled to higher ground after the strong earthquake off Chile; the "
    "tsunami warning for the coast was lifted hours later, the seismology office said. {extra}"
)


def article(
    slug: str, text: str, hours: float, entities: list[tuple[str, str, float]], title: str = ""
) -> ArticleEnriched:
    url = f"https://news.example/{slug}"
    return ArticleEnriched(
        id=article_id(url),
        url=url,
        source=slug.split("-")[0],
        title=title or text[:60],
        text=text,
        published_at=T0 + timedelta(hours=hours),
        ingested_at=T0 + timedelta(hours=hours),
        content_hash="0" * 64,
        language="en",
        entities=tuple(Entity(name=n, type=t, count=1, salience=s) for n, t, s in entities),
        enriched_at=T0,
    )


SUMMIT_ENTITIES = [
    ("Sergei Lavrov", "PERSON", 1.0),
    ("Kim Jong Un", "PERSON", 0.9),
    ("North Korea", "GPE", 0.8),
    ("Pyongyang", "GPE", 0.6),
]
QUAKE_ENTITIES = [("Chile", "GPE", 1.0), ("Valparaiso", "GPE", 0.8), ("Santiago", "GPE", 0.6)]


def corpus() -> list[ArticleEnriched]:
    summit, quake = SUMMIT_ENTITIES, QUAKE_ENTITIES
    return [
        article(
            "daily8-lavrov", SUMMIT.format(extra="Officials gave no further details."), 0, summit
        ),
        article(
            "sky-lavrov", SUMMIT_OTHER.format(extra="The talks lasted three hours."), 3, summit[:3]
        ),
        article(
            "reuters-lavrov",
            SUMMIT_THIRD.format(extra="Seoul called the visit worrying."),
            30,
            summit,
        ),
        # The same wire text, republished unchanged: a near-duplicate.
        article(
            "mirror-lavrov", SUMMIT.format(extra="Officials gave no further details."), 1, summit
        ),
        article("bbc-quake", QUAKE.format(extra="No deaths were reported."), 5, quake),
        article("ap-quake", QUAKE_OTHER.format(extra="Power was cut in several towns."), 7, quake),
        # The same kind of event, much later: a different story, not related.
        article("old-quake", QUAKE.format(extra="That quake was in 2010."), -24 * 400, quake),
    ]


def built(order: list[ArticleEnriched]) -> Relator:
    relator = Relator()
    for item in order:
        relator.add(item)
    return relator


def ids(*slugs: str) -> set[str]:
    return {article_id(f"https://news.example/{s}") for s in slugs}


def test_related_lists_hold_the_same_event_best_first_with_reasons() -> None:
    relator = built(corpus())
    first = article_id("https://news.example/daily8-lavrov")
    related = relator.related(first)
    assert {r.id for r in related} == ids("sky-lavrov", "reuters-lavrov", "mirror-lavrov")
    assert [r.score for r in related] == sorted((r.score for r in related), reverse=True)
    assert "Sergei Lavrov" in related[-1].shared_entities
    newer = [r for r in related if r.id in ids("reuters-lavrov")]
    assert newer, "an older article lists the report that came after it"


def test_relations_are_symmetric() -> None:
    relator = built(corpus())
    for item in corpus():
        for related in relator.related(item.id):
            back = {r.id: r.score for r in relator.related(related.id)}
            assert back[item.id] == related.score


def test_a_republished_wire_text_is_a_duplicate_not_a_related_article() -> None:
    relator = built(corpus())
    mirror = article_id("https://news.example/mirror-lavrov")
    first = article_id("https://news.example/daily8-lavrov")
    relation = {r.id: r.relation for r in relator.related(first)}
    assert relation[mirror] == "duplicate"
    assert relation[article_id("https://news.example/sky-lavrov")] == "related"
    assert relator.duplicate_of(mirror) == first
    assert relator.duplicate_of(first) is None


def test_stories_group_one_event_and_are_named_after_the_earliest_article() -> None:
    relator = built(corpus())
    summit = {
        relator.story_id(i)
        for i in ids("daily8-lavrov", "sky-lavrov", "reuters-lavrov", "mirror-lavrov")
    }
    quake = {relator.story_id(i) for i in ids("bbc-quake", "ap-quake")}
    assert summit == ids("daily8-lavrov")
    assert quake == ids("bbc-quake")
    assert relator.story_id(article_id("https://news.example/old-quake")) == article_id(
        "https://news.example/old-quake"
    )
    story = relator.story(next(iter(summit)))
    assert story is not None
    assert len(story.article_ids) == 4
    assert story.entities[0] == "Sergei Lavrov"
    assert story.first_seen == T0


def test_arrival_order_changes_nothing() -> None:
    reference = built(corpus())
    for seed in range(5):
        order = corpus()
        random.Random(seed).shuffle(order)
        shuffled = built(order)
        for item in corpus():
            assert shuffled.related(item.id) == reference.related(item.id)
            assert shuffled.story_id(item.id) == reference.story_id(item.id)


def test_a_late_earlier_article_redoes_the_decisions_after_it() -> None:
    relator = Relator()
    early = article("a-lavrov", SUMMIT.format(extra=""), 0, SUMMIT_ENTITIES[:1])
    relator.add(early)
    later = article(
        "b-kim",
        "Kim Jong Un inspected a missile factory, state media said.",
        10,
        SUMMIT_ENTITIES[1:2],
    )
    relator.add(later)
    assert relator.story_id(later.id) == later.id, (
        "too little in common: a story of its own, at first"
    )
    between = article(
        "c-both",
        SUMMIT_OTHER.format(extra="Kim Jong Un inspected a missile factory."),
        5,
        SUMMIT_ENTITIES[:2],
    )
    changes = relator.add(between)
    # In (time, id) order the story has grown by the article in between when the later one
    # comes, and the later one joins it: the same stories as if they had come in order.
    assert (
        relator.story_id(later.id)
        == relator.story_id(between.id)
        == relator.story_id(early.id)
        == early.id
    )
    assert built([early, between, later]).story_id(later.id) == early.id
    slot = relator.index.slot_of
    assert slot[later.id] in changes.moved, "the article that moved is to be written again"
    assert {slot[early.id], slot[later.id]} <= changes.stories, "both stories to be rewritten"
    assert relator.story(later.id) is None, "the story it left is no story any more"


def test_an_article_indexed_twice_keeps_what_its_first_arrival_changed() -> None:
    relator = Relator()
    first, second = corpus()[0], corpus()[1]
    relator.add(first)
    relator.add(second)
    slot = relator.index.slot_of[first.id]
    assert slot in relator.changes_caused_by(second.id).related
    relator.add(second)  # redelivered: relates nothing new
    assert slot in relator.changes_caused_by(second.id).related, (
        "the older article still needs writing"
    )
    assert slot in relator.changes_caused_by(second.id).stories


def test_an_article_knows_every_article_related_to_it_whichever_came_first() -> None:
    # After a restart the index is rebuilt in an order across partitions that can differ
    # from the order of first handling: the writer of an article handled again must still
    # reach the older articles it relates to, even if their insertion recorded the change.
    first, second = corpus()[0], corpus()[1]
    for order in ([first, second], [second, first]):
        relator = built(order)
        slots = relator.index.slot_of
        assert slots[first.id] in relator.neighbours(second.id)
        assert slots[second.id] in relator.neighbours(first.id)
        assert slots[first.id] in relator.story_members(second.id)
    unrelated = Relator()
    unrelated.add(first)
    assert unrelated.neighbours(first.id) == set()
