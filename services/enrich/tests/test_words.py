"""The word table read off spaCy's arrays says what walking the tokens would."""

import pytest
import spacy
from newswire_enrich.domain.words import text_of, words_of

pytestmark = pytest.mark.unit

TEXT = (
    "The Mayor of Lyon said on Tuesday that 3 bridges would close.\n\n"
    "  Repairs, she added, will take until 2027 — and cost €12m.  Traffic moves to the A7."
)


def test_the_table_matches_the_tokens() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    doc = nlp(TEXT)
    words = words_of(doc)
    assert words.alpha == [t.i for t in doc if t.is_alpha]
    assert words.content == [(t.i, t.lower_, len(t)) for t in doc if t.is_alpha and not t.is_stop]
    lowered = [w for _, w, _ in words.content]
    assert "mayor" in lowered
    assert "the" not in lowered
    for sentence in doc.sents:
        assert text_of(sentence) == sentence.text
        assert words.alpha_between(sentence.start, sentence.end) == sum(
            1 for t in sentence if t.is_alpha
        )
    assert words_of(doc) is words, "read once per document"
