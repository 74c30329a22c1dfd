"""Entity normalisation and merging, on mentions as spaCy would give them."""

import pytest
from newswire_enrich.domain.entities import Mention, canonical_place, entities_of, normalise_name

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "label", "name"),
    [
        ("Mr Shoigu's", "PERSON", "Shoigu"),
        ("President Vladimir Putin", "PERSON", "Vladimir Putin"),
        ("Prime Minister Keir Starmer", "PERSON", "Keir Starmer"),
        ("the United Nations", "ORG", "United Nations"),
        ("North Korea's", "GPE", "North Korea"),
        ("U.S.", "GPE", "U.S."),
        ("Moscow.", "GPE", "Moscow"),
        ("  Kim   Jong Un ", "PERSON", "Kim Jong Un"),
        ("2024", "DATE", ""),
        ("President", "PERSON", "President"),
        ("Mark Schiefelbein/AP", "PERSON", "Mark Schiefelbein"),
        ("Park \u00adGeun-hye", "PERSON", "Park Geun-hye"),
        ("People\u2019s Daily", "ORG", "People's Daily"),
        ("Equifax Equifax", "ORG", "Equifax"),
        ("Advertisement Continue", "PERSON", ""),
        ("tips@the-sun.co.uk", "NORP", ""),
    ],
)
def test_names_are_normalised(text: str, label: str, name: str) -> None:
    assert normalise_name(text, label) == name


def mentions(*items: tuple[str, str, int]) -> list[Mention]:
    return [Mention(name, label, start) for name, label, start in items]


def test_short_person_names_join_the_one_full_name() -> None:
    found = entities_of(
        mentions(
            ("Sergei Shoigu", "PERSON", 600),
            ("Shoigu", "PERSON", 700),
            ("Shoigu", "ORG", 800),
            ("Kim Jong Un", "PERSON", 900),
            ("Kim", "PERSON", 1000),
        ),
        title_chars=0,
    )
    assert [(e.name, e.count) for e in found] == [("Sergei Shoigu", 3), ("Kim Jong Un", 2)]


def test_an_ambiguous_short_name_stays_apart() -> None:
    found = entities_of(
        mentions(
            ("Kim Jong Un", "PERSON", 600), ("Kim Yo Jong", "PERSON", 700), ("Kim", "PERSON", 800)
        ),
        title_chars=0,
    )
    assert {e.name for e in found} == {"Kim Jong Un", "Kim Yo Jong", "Kim"}


def test_an_acronym_joins_its_organisation() -> None:
    found = entities_of(
        mentions(
            ("Association of Southeast Asian Nations", "ORG", 600),
            ("ASEAN", "ORG", 700),
            ("NATO", "ORG", 800),
        ),
        title_chars=0,
    )
    assert [(e.name, e.count) for e in found] == [
        ("Association of Southeast Asian Nations", 2),
        ("NATO", 1),
    ]


def test_one_type_per_entity_by_vote_with_people_favoured() -> None:
    found = entities_of(
        mentions(
            ("Lavrov", "ORG", 600),
            ("Lavrov", "ORG", 700),
            ("Lavrov", "ORG", 800),
            ("Lavrov", "PERSON", 900),
            ("Lavrov", "PERSON", 1000),
        ),
        title_chars=0,
    )
    assert [(e.name, e.type, e.count) for e in found] == [("Lavrov", "PERSON", 5)]


def test_known_places_mislabelled_by_the_model_are_places() -> None:
    found = entities_of(
        mentions(("Kursk", "PRODUCT", 600), ("iPhone", "PRODUCT", 700)), title_chars=0
    )
    assert [(e.name, e.type) for e in found] == [("Kursk", "GPE")]


def test_salience_weighs_title_then_lead_then_body() -> None:
    found = entities_of(
        mentions(
            ("Russia", "GPE", 5),
            ("Ukraine", "GPE", 100),
            ("Moscow", "GPE", 2000),
            ("Moscow", "GPE", 2100),
        ),
        title_chars=50,
    )
    assert [(e.name, e.salience) for e in found] == [
        ("Russia", 1.0),
        ("Ukraine", 0.667),
        ("Moscow", 0.667),
    ]


def test_country_short_forms() -> None:
    assert [canonical_place(n) for n in ("US", "U.S.", "USA", "UK", "Britain", "Russia")] == [
        "United States",
        "United States",
        "United States",
        "United Kingdom",
        "United Kingdom",
        "Russia",
    ]
