"""thinc, for prediction: the same numbers for less work.

- **Maxout layers without the indices only training reads.** A maxout layer outputs, for each
  unit, the largest of its pieces (three in spaCy's English models). thinc's layer also
  records which piece won, for its backward pass, in a loop over every unit that costs more
  than taking the maximum. The entity model's token vectors pass five such layers, and
  prediction never reads the record: without it enrich's spaCy pipeline took 23 instead of
  28 ms an article on the dev corpus (batches of two). A forward pass for training
  (``is_train``) is thinc's own.
- **Embedding rows summed by numpy** (``PredictionOps.gather_add``): each token's hashed rows
  added in the same order as thinc's loop, so the same sums, in less than half the time.

The token vectors and entities are the same as thinc's, bit for bit, on the dev corpus and
the gold set (tests/test_prediction.py, test_entities_by_sentence.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from thinc.api import Model, NumpyOps
from thinc.layers import maxout

__all__ = ["PredictionOps", "predict_without_indices", "prediction_only"]


class PredictionOps(NumpyOps):  # type: ignore[misc]
    """thinc's NumpyOps with ``gather_add`` through numpy."""

    def gather_add(self, table: Any, indices: Any) -> Any:
        if table.ndim != 2 or indices.ndim != 2:
            return super().gather_add(table, indices)
        # thinc adds row after row to zeros (axpy with a factor of 1): so does this.
        summed = self.xp.zeros((indices.shape[0], table.shape[1]), dtype=table.dtype)
        for column in range(indices.shape[1]):
            summed += table.take(indices[:, column], axis=0)
        return summed


def predict_without_indices(model: Model[Any, Any]) -> int:
    """Give every thinc maxout layer in ``model`` the prediction path; how many there were."""
    layers = [node for node in model.walk() if node._func is maxout.forward]
    for layer in layers:
        # thinc keeps a layer's forward function here, and offers no setter for it.
        layer._func = _forward
    return len(layers)


def _forward(model: Model[Any, Any], X: Any, is_train: bool) -> tuple[Any, Callable[..., Any]]:
    if is_train:
        return maxout.forward(model, X, is_train)
    ops = model.ops
    nO, nP, nI = model.get_dim("nO"), model.get_dim("nP"), model.get_dim("nI")
    # As thinc's forward computes them, so that the pieces are the same numbers.
    Y = ops.gemm(X, ops.reshape2f(model.get_param("W"), nO * nP, nI), trans2=True)
    Y += ops.reshape1f(model.get_param("b"), nO * nP)
    pieces = ops.reshape3f(Y, Y.shape[0], nO, nP)
    best = pieces[:, :, 0].copy()
    for piece in range(1, nP):
        ops.xp.maximum(best, pieces[:, :, piece], out=best)
    return best, prediction_only


def prediction_only(_: Any) -> Any:
    """The backward pass of a layer that only predicts."""
    raise NotImplementedError("for prediction only")
