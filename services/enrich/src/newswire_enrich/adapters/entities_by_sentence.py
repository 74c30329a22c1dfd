"""The entity recogniser with a document's sentences decided side by side.

spaCy's entity recogniser computes token vectors for the whole text, then decides token by
token, one step for the whole batch at a time. A step costs about as much for one state as
for many, so an article recognised on its own, the usual case below saturation when enrich's
batches hold one or two articles, paid about 12 ms an article for its decisions, against 7
in batches of 16 (dev corpus, 723 tokens an article on average).

Runs of sentences of one document can be decided side by side instead, as states of one
batch, with exactly the same outcome, because:

- an entity never crosses a sentence start: spaCy makes B and I invalid before one;
- at a sentence start no entity is open, and then a decision reads the vector of the token
  at hand alone (the recogniser's other features are the open entity's first and previous
  tokens), not the decisions before it;
- the token vectors are still computed over the whole document, so the network's window
  reaches across sentences as before.

On the dev corpus this found the very same entities in all 383 articles, in 29 ms of the
pipeline an article on its own instead of 32. Documents with entities set beforehand, and a
recogniser that searches with a beam, are recognised whole, the usual way.
"""

# No "from __future__ import annotations": spaCy reads the factory's annotations as types.
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy
from spacy.attrs import ORTH, SENT_START, SPACY
from spacy.language import Language
from spacy.pipeline import EntityRecognizer
from spacy.tokens import Doc, Span
from spacy.util import minibatch
from thinc.api import Model

from newswire_enrich.adapters.prediction import prediction_only

__all__ = ["MIN_RUN_TOKENS", "EntitiesBySentence"]

MIN_RUN_TOKENS = 64
"""Sentences join a run until it has this many tokens: fewer, longer runs cost less to make,
more, shorter ones fewer steps. Between 32 and 128 the cost was the same within noise."""


@Language.factory("newswire_entities_by_sentence", default_config={"recognizer": "ner"})
def make_entities_by_sentence(nlp: Language, name: str, recognizer: str) -> "EntitiesBySentence":
    """The pipeline's trained recogniser ``recognizer``, deciding sentences side by side
    (the recogniser is then removed from the pipeline by whoever adds this)."""
    return EntitiesBySentence(nlp.get_pipe(recognizer))


@dataclass(frozen=True, slots=True)
class _Run:
    doc: Doc
    """The run's own document: its tokens, a copy of the source's."""
    source: Doc
    start: int
    """Where the run begins in ``source``."""


class EntitiesBySentence:
    """A pipeline component: ``recognizer`` over documents, their sentences side by side."""

    def __init__(self, recognizer: Any) -> None:
        self.recognizer = recognizer
        self._model = recognizer.model
        self._vectors: Model[Any, Any] = self._model.get_ref("tok2vec")
        self._given = _GivenVectors(self._model)
        self._side_by_side = (
            isinstance(recognizer, EntityRecognizer) and recognizer.cfg.get("beam_width", 1) == 1
        )
        self._lock = threading.Lock()  # the model's token-vector layer is swapped per call

    def __call__(self, doc: Doc) -> Doc:
        self._recognise([doc])
        return doc

    def pipe(self, docs: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            self._recognise(batch)
            yield from batch

    def _recognise(self, docs: list[Doc]) -> None:
        docs = [doc for doc in docs if len(doc)]
        if not docs:
            return
        if not self._side_by_side:
            self.recognizer.set_annotations(docs, self.recognizer.predict(docs))
            return
        runs = [run for doc in docs for run in _runs(doc)]
        with self._lock:
            vectors = self._vectors.predict(docs)
            with self._given.answering(vectors):
                states = self.recognizer.predict([run.doc for run in runs])
        self.recognizer.set_annotations([run.doc for run in runs], states)
        # A document recognised whole (its one run is itself) has its entities already; a cut
        # one gets its runs' entities back at their offsets.
        cut: dict[int, tuple[Doc, list[Span]]] = {}
        for run in runs:
            if run.doc is not run.source:
                spans = cut.setdefault(id(run.source), (run.source, []))[1]
                spans += [
                    Span(run.source, run.start + ent.start, run.start + ent.end, label=ent.label)
                    for ent in run.doc.ents
                ]
        for doc, spans in cut.values():
            doc.set_ents(spans, default="outside")


def _runs(doc: Doc) -> list[_Run]:
    """The document cut at sentence starts into runs of at least MIN_RUN_TOKENS tokens."""
    if doc.has_annotation("ENT_IOB"):
        return [_Run(doc, doc, 0)]  # entities set beforehand may cross sentences
    rows = doc.to_array([ORTH, SPACY, SENT_START])
    is_start = rows[:, 2] == 1
    starts = [0]
    for start in numpy.flatnonzero(is_start).tolist():
        if start - starts[-1] >= MIN_RUN_TOKENS:
            starts.append(start)
    if len(starts) == 1:
        return [_Run(doc, doc, 0)]
    strings = doc.vocab.strings
    words = [strings[orth] for orth in rows[:, 0].tolist()]
    spaces = (rows[:, 1] == 1).tolist()
    sentence_starts = is_start.tolist()
    runs = []
    for start, end in zip(starts, [*starts[1:], len(doc)], strict=True):
        copy = Doc(
            doc.vocab,
            words=words[start:end],
            spaces=spaces[start:end],
            sent_starts=sentence_starts[start:end],
        )
        runs.append(_Run(copy, doc, start))
    return runs


class _GivenVectors:
    """A stand-in for the recogniser's token-vector layer that answers with the vectors it is
    given, computed over the documents the runs were cut from (the runs, in order, cover them
    token for token). Made once: a thinc layer made in the worker thread that enriches would
    look up its backend anew each time, about a millisecond."""

    def __init__(self, model: Model[Any, Any]) -> None:
        self._model = model
        self._vectors: Any = None
        self._layer: Model[Any, Any] = Model("token_vectors_given", self._forward, ops=model.ops)

    @contextmanager
    def answering(self, vectors: Any) -> Iterator[None]:
        """The recogniser's token-vector layer answering with ``vectors`` meanwhile."""
        original = self._model.layers[0]
        self._model.layers[0], self._vectors = self._layer, vectors
        try:
            yield
        finally:
            self._model.layers[0], self._vectors = original, None

    def _forward(self, _: Model[Any, Any], runs: list[Doc], is_train: bool) -> tuple[Any, Callable]:
        if sum(len(run) for run in runs) != self._vectors.shape[0]:
            raise ValueError("the runs do not cover the documents' tokens")
        return self._vectors, prediction_only
