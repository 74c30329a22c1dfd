"""The spaCy pipelines: the entity model for its language, blank tokenizers for the rest."""

from __future__ import annotations

import logging
from functools import lru_cache

import spacy
from spacy.attrs import IS_SPACE, SENT_START
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import Model, set_current_ops
from threadpoolctl import threadpool_limits

from newswire_enrich.adapters import entities_by_sentence  # noqa: F401  (registers the component)
from newswire_enrich.adapters.prediction import PredictionOps, predict_without_indices

__all__ = ["Pipelines"]

log = logging.getLogger(__name__)

# What enrich needs from a trained pipeline: its entity recogniser. The tagger, parser,
# lemmatizer and attribute ruler cost a third of the time and feed nothing. The neural
# sentence splitter (senter) is left out too: rules split sentences in an eighth of its time
# (0.24 against 2.0 ms an article here), find the very same entities and keywords on the gold
# set and the dev corpora, and give summaries as close to the articles' own descriptions
# (bench "quality"); they do worse only on pre-tokenised text ("Calif . ,"), which feeds do
# not send.
_UNUSED = (
    "tagger",
    "parser",
    "senter",
    "attribute_ruler",
    "lemmatizer",
    "morphologizer",
    "trainable_lemmatizer",
)

_OPENING = frozenset("\"'“‘«([{")
"""Quotes and brackets that open a sentence when they stand before its first word."""


@Language.component("newswire_sentence_starts")
def sentence_starts(doc: Doc) -> Doc:
    """What the rules miss: a paragraph break (a blank line) always starts a sentence; the
    title ends one; an opening quote or bracket belongs to the sentence it opens (the rules
    leave it at the end of the one before: 'release. |“Fame' becomes 'release.| “Fame')."""
    # Read off arrays: making a Token for every word costs more than the splitting itself.
    attrs = doc.to_array([IS_SPACE, SENT_START]).tolist()
    for i in range(1, len(attrs)):
        if attrs[i - 1][0] and not attrs[i][0] and "\n" in doc[i - 1].text:
            doc[i].is_sent_start = True
        elif attrs[i][1] == 1 and i >= 2 and not attrs[i - 1][0]:
            opening = doc[i - 1]
            if opening.text in _OPENING and not opening.whitespace_ and doc[i - 2].whitespace_:
                opening.is_sent_start = True
                doc[i].is_sent_start = False
    return doc


class Pipelines:
    """Loads the entity model once; gives a blank (tokenizer + sentencizer) pipeline otherwise.

    ``entity_language`` is the language the entity model was trained for (from its meta);
    articles in other languages get tokens and sentences, and no entities.
    """

    def __init__(self, model: str, *, blas_threads: int = 1) -> None:
        self.model_name = model
        use_numpy_blas(blas_threads)
        self.entities: Language = spacy.load(model, exclude=list(_UNUSED))
        # The shared token-to-vector layer feeds only the components that listen to it; in the
        # small English model those are the tagger and parser, excluded above, while ner embeds
        # its own. Computing it anyway cost a third of the pipeline's time.
        if (
            "tok2vec" in self.entities.pipe_names
            and not self.entities.get_pipe("tok2vec").listening_components
        ):
            self.entities.remove_pipe("tok2vec")
        for _, component in self.entities.components:
            if isinstance(network := getattr(component, "model", None), Model):
                predict_without_indices(network)  # the same numbers, less work (see there)
        self.entities.add_pipe("sentencizer", first=True)
        self.entities.add_pipe("newswire_sentence_starts", after="sentencizer")
        if "ner" in self.entities.pipe_names:
            # The same entities, an article's sentences decided side by side (see there).
            self.entities.add_pipe("newswire_entities_by_sentence", name="entities", after="ner")
            self.entities.remove_pipe("ner")
        self.entity_language: str = self.entities.lang
        meta = self.entities.meta
        log.info(
            "entity model loaded",
            extra={
                "model": f"{meta.get('name')}-{meta.get('version')}",
                "pipeline": self.entities.pipe_names,
                "ents_f": meta.get("performance", {}).get("ents_f"),
            },
        )

    def for_language(self, code: str | None) -> Language:
        """The entity model for its language; a blank pipeline for any other."""
        if code == self.entity_language:
            return self.entities
        return _blank(code or "xx")


def use_numpy_blas(threads: int) -> None:
    """Matrix products through numpy's OpenBLAS instead of thinc's blis, on ``threads`` threads.

    On the dev corpus the pipeline finds exactly the same entities and sentences either way,
    in about a quarter less CPU; OpenBLAS would otherwise start a thread per core, which on a
    machine the other services share only spins. Embedding rows are summed through numpy too
    (PredictionOps).
    """
    set_current_ops(PredictionOps(use_blis=False))
    threadpool_limits(limits=threads, user_api="blas")


@lru_cache(maxsize=64)
def _blank(code: str) -> Language:
    try:
        nlp = spacy.blank(code)
    except (ImportError, KeyError, ValueError):
        nlp = spacy.blank("xx")  # multi-language tokenizer, no stop words
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("newswire_sentence_starts")
    return nlp
