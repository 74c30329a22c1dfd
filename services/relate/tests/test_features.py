"""What relate compares articles by: figures among the terms, names by their words."""

from __future__ import annotations

import pytest
from newswire_relate.domain.features import SCALE, features_of, stable_hash
from newswire_relate.domain.scoring import Weights, relation_between

from .test_relator import article

pytestmark = pytest.mark.unit

QUAKE = (
    "An earthquake of magnitude {magnitude} struck the province of Sichuan on Monday, killing "
    "{dead} people and injuring {hurt}, officials said. Rescue teams searched collapsed homes "
    "in mountain villages while aftershocks of magnitude {after} shook the region."
)
QUAKE_RETOLD = (
    "Sichuan's government raised the toll of Monday's magnitude {magnitude} earthquake to {dead} "
    "dead and {hurt} injured. Soldiers cleared roads to remote valleys; a {after} aftershock "
    "brought down more walls overnight."
)


def quake(slug: str, template: str, *figures: str):
    magnitude, dead, hurt, after = figures
    text = template.format(magnitude=magnitude, dead=dead, hurt=hurt, after=after)
    return article(slug, text, 0, [("Sichuan", "GPE", 1.0)], title=f"Quake kills {dead}")


def test_the_figures_tell_two_quakes_of_one_kind_apart() -> None:
    """Told in the same words, the quake with the same figures is the nearer one."""
    one = features_of(quake("a-1", QUAKE, "6.1", "13", "210", "4.2"))
    same = features_of(quake("b-1", QUAKE_RETOLD, "6.1", "13", "210", "4.2"))
    other = features_of(quake("c-1", QUAKE_RETOLD, "7.9", "3,400", "12,000", "5.8"))
    weights = Weights()
    assert relation_between(one, same, weights).score > relation_between(one, other, weights).score
    assert stable_hash("#6.1") in one.terms
    assert stable_hash("#3,400") in other.terms


def test_numbers_are_terms_but_never_index_keys() -> None:
    """A number files half the corpus together ("2", "2024"): keys are words and names."""
    features = features_of(quake("a-1", QUAKE, "6.1", "13", "210", "4.2"))
    numbers = {stable_hash("t:#" + n) for n in ("6.1", "13", "210", "4.2")}
    assert not numbers & set(features.keys)
    assert (
        stable_hash("t:sichuan") in features.keys or stable_hash("e:GPE:Sichuan") in features.keys
    )


def test_weights_are_unit_vectors_in_fixed_point() -> None:
    features = features_of(quake("a-1", QUAKE, "6.1", "13", "210", "4.2"))
    for vector in (features.terms, features.names):
        assert all(isinstance(w, int) for w in vector.values())
        assert sum(w * w for w in vector.values()) == pytest.approx(SCALE * SCALE, rel=1e-3)


def test_a_surname_meets_the_full_name() -> None:
    """The names' words, not the typed names, are compared: "Thompson" meets "Tony Thompson"."""
    full = features_of(
        article(
            "a-1",
            "Tony Thompson scored twice as the home side won the cup final on Sunday evening.",
            0,
            [("Tony Thompson", "PERSON", 1.0)],
        )
    )
    told = "The striker said after the match that the title belonged to the supporters."
    surname = features_of(article("b-1", told, 0, [("Thompson", "PERSON", 1.0)]))
    stranger = features_of(article("c-1", told, 0, [("Maria Lopez", "PERSON", 1.0)]))
    weights = Weights()
    near = relation_between(full, surname, weights).score
    assert near > relation_between(full, stranger, weights).score
