"""The spaCy pipelines: the entity model for its language, blank tokenizers for the rest."""

from __future__ import annotations

import logging
from functools import lru_cache

import spacy
from spacy.attrs import IS_SPACE
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import NumpyOps, set_current_ops
from threadpoolctl import threadpool_limits

__all__ = ["Pipelines"]

log = logging.getLogger(__name__)

# What enrich needs from a trained pipeline: token vectors, sentences and entities. The
# tagger, parser, lemmatizer and attribute ruler cost a third of the time and feed nothing.
_UNUSED = (
    "tagger",
    "parser",
    "attribute_ruler",
    "lemmatizer",
    "morphologizer",
    "trainable_lemmatizer",
)


@Language.component("newswire_paragraph_breaks")
def paragraph_breaks(doc: Doc) -> Doc:
    """A paragraph break (a blank line) always starts a sentence; the title ends one."""
    # Whitespace tokens are few: find them in the array, not by making every Token.
    spaces = doc.to_array(IS_SPACE).tolist()
    for i in range(1, len(spaces)):
        if spaces[i - 1] and not spaces[i] and "\n" in doc[i - 1].text:
            doc[i].is_sent_start = True
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
        if "senter" in self.entities.component_names and "senter" in self.entities.disabled:
            self.entities.enable_pipe("senter")
        # The shared token-to-vector layer feeds only the components that listen to it; in the
        # small English model those are the tagger and parser, excluded above, while senter and
        # ner embed their own. Computing it anyway cost a third of the pipeline's time.
        if (
            "tok2vec" in self.entities.pipe_names
            and not self.entities.get_pipe("tok2vec").listening_components
        ):
            self.entities.remove_pipe("tok2vec")
        if not self.entities.has_pipe("senter") and not self.entities.has_pipe("parser"):
            self.entities.add_pipe("sentencizer", first=True)
        splitter = "senter" if self.entities.has_pipe("senter") else self.entities.pipe_names[0]
        self.entities.add_pipe("newswire_paragraph_breaks", after=splitter)
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
    machine the other services share only spins.
    """
    set_current_ops(NumpyOps(use_blis=False))
    threadpool_limits(limits=threads, user_api="blas")


@lru_cache(maxsize=64)
def _blank(code: str) -> Language:
    try:
        nlp = spacy.blank(code)
    except (ImportError, KeyError, ValueError):
        nlp = spacy.blank("xx")  # multi-language tokenizer, no stop words
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("newswire_paragraph_breaks")
    return nlp
