"""Language identification: a prefix settles most articles; an unsure one is asked again."""

import pytest
from newswire_enrich.adapters.language import _PREFIX_CHARS, LanguageIdentifier

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
    assert samples == [_PREFIX_CHARS]


NEIGHBOURS = {
    "es": "El Gobierno aprobó el miércoles un nuevo paquete de ayudas para los agricultores "
    "afectados por la sequía. Según el ministerio, los fondos llegarán primero a las pequeñas "
    "explotaciones, que han sufrido las mayores pérdidas durante el verano pasado. ",
    "pt": "O Governo aprovou na quarta-feira um novo pacote de apoios para os agricultores "
    "afetados pela seca. Segundo o ministério, os fundos chegarão primeiro às pequenas "
    "explorações, que sofreram as maiores perdas durante o verão passado. ",
    "it": "Il governo ha approvato mercoledì un nuovo pacchetto di aiuti per gli agricoltori "
    "colpiti dalla siccità. Secondo il ministero, i fondi arriveranno prima alle piccole "
    "aziende, che hanno subito le perdite maggiori durante la scorsa estate. ",
    "fr": "Le gouvernement a adopté mercredi un nouveau plan d'aide pour les agriculteurs "
    "touchés par la sécheresse. Selon le ministère, les fonds iront d'abord aux petites "
    "exploitations, qui ont subi les plus lourdes pertes l'été dernier. ",
}


@pytest.mark.parametrize("code", sorted(NEIGHBOURS))
def test_neighbouring_languages_are_told_apart_from_the_prefix(
    identifier: LanguageIdentifier, code: str
) -> None:
    # Same story, close languages: the prefix (or, when unsure, the longer sample) tells them
    # apart.
    found = identifier.detect(NEIGHBOURS[code] * 4)
    assert found is not None
    assert found.code == code


def test_a_start_without_prose_is_looked_past(identifier: LanguageIdentifier) -> None:
    # A results table first, then the article: the prefix has no letters to go on.
    text = "12 : 3, 45 : 6, 78 : 9. " * 30 + GERMAN
    found = identifier.detect(text)
    assert found is not None
    assert found.code == "de"


def test_no_letters_no_language(identifier: LanguageIdentifier) -> None:
    assert identifier.detect("12 : 3, 45 : 6. " * 300) is None
