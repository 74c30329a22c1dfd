"""Language identification: a prefix settles most articles; an unsure one is asked again."""

import pytest
from newswire_enrich.adapters.language import LanguageIdentifier

pytestmark = pytest.mark.unit

GERMAN = (
    "Die Bundesregierung hat am Mittwoch neue Hilfen für die Landwirtschaft beschlossen. "
    "Nach Angaben des Ministeriums sollen die Mittel vor allem kleinen Betrieben zugute kommen, "
    "die unter der Trockenheit des vergangenen Sommers gelitten haben. "
) * 4


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier()


def test_a_clear_article_is_decided_on_its_start(identifier: LanguageIdentifier) -> None:
    samples: list[int] = []
    real = identifier._detector

    class Counting:
        def compute_language_confidence_values(self, text: str):  # type: ignore[no-untyped-def]
            samples.append(len(text))
            return real.compute_language_confidence_values(text)

    counting = LanguageIdentifier(Counting())  # type: ignore[arg-type]
    found = counting.detect(GERMAN * 5)
    assert found is not None
    assert found.code == "de"
    assert samples == [600]


def test_a_start_without_prose_is_looked_past(identifier: LanguageIdentifier) -> None:
    # A results table first, then the article: the prefix has no letters to go on.
    text = "12 : 3, 45 : 6, 78 : 9. " * 30 + GERMAN
    found = identifier.detect(text)
    assert found is not None
    assert found.code == "de"


def test_no_letters_no_language(identifier: LanguageIdentifier) -> None:
    assert identifier.detect("12 : 3, 45 : 6. " * 300) is None
