"""Language, counts and the enrichment of a whole article, on real article text."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from newswire_contracts import ArticleIngested, article_id
from newswire_enrich.enrichment import enrich_article
from newswire_enrich.language import LanguageIdentifier
from newswire_enrich.reading import reading_time_minutes, word_count

pytestmark = pytest.mark.unit

SEED = Path(__file__).parents[3] / "data" / "sample" / "seed" / "articles.json"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def languages() -> LanguageIdentifier:
    return LanguageIdentifier()


@pytest.fixture(scope="module")
def seed_article() -> ArticleIngested:
    raw = json.loads(SEED.read_text())[0]
    return ArticleIngested(
        id=article_id(raw["url"]),
        url=raw["url"],
        source=raw["source"],
        title=raw["title"],
        text=raw["text"],
        ingested_at=NOW,
        content_hash="a" * 64,
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (
            "North Korea's official Korean Central News Agency said Lavrov was invited by the Foreign Ministry.",
            "en",
        ),
        (
            "Der russische Außenminister reist diese Woche nach Nordkorea, teilte die Nachrichtenagentur mit.",
            "de",
        ),
        (
            "Le ministre russe des Affaires étrangères se rendra en Corée du Nord cette semaine.",
            "fr",
        ),
        ("El ministro de Asuntos Exteriores ruso visitará Corea del Norte esta semana.", "es"),
    ],
)
def test_language_of_news_sentences(languages: LanguageIdentifier, text: str, code: str) -> None:
    detected = languages.detect(text)
    assert detected is not None
    assert detected.code == code
    assert 0.5 < detected.confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "12345 67 -- !!", "\x00\x01\x02"])
def test_no_language_without_letters(languages: LanguageIdentifier, text: str) -> None:
    assert languages.detect(text) is None


def test_word_count_and_reading_time() -> None:
    assert word_count("Kim Jong Un's well-known visit, in 2024.") == 7
    assert word_count("") == 0
    assert reading_time_minutes(0) == 0
    assert reading_time_minutes(1) == 1
    assert reading_time_minutes(460, 230) == 2
    assert reading_time_minutes(461, 230) == 3


def test_seed_article_is_enriched(
    languages: LanguageIdentifier, seed_article: ArticleIngested
) -> None:
    enriched = enrich_article(seed_article, languages=languages, now=NOW)
    assert enriched.id == seed_article.id
    assert enriched.text == seed_article.text
    assert enriched.language == "en"
    assert enriched.language_confidence > 0.9
    assert enriched.word_count == word_count(seed_article.text) > 300
    assert enriched.reading_time_minutes == reading_time_minutes(enriched.word_count)
    assert enriched.enriched_at == NOW
    assert "language" not in enriched.missing


def test_text_without_letters_says_language_is_missing(
    languages: LanguageIdentifier, seed_article: ArticleIngested
) -> None:
    numbers = seed_article.model_copy(update={"title": "", "text": "1 2 3 4 5"})
    enriched = enrich_article(numbers, languages=languages, now=NOW)
    assert enriched.language is None
    assert "language" in enriched.missing
