"""Metrics Keras does not ship, by the name a config uses (`trainer.metrics=[accuracy,perplexity]`).

Task defaults and configs name metrics as strings; `resolve` turns seqexp's own names into metric
objects right before `model.compile`, and Keras logs each under that same name.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="seqexp")
class Perplexity(keras.metrics.Mean):
    """exp(mean sparse categorical cross-entropy) of softmax outputs: the vocabulary size for a
    uniform guess, 1 for a perfect model. Logged as `perplexity` / `val_perplexity`."""

    def __init__(self, name="perplexity", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        entropy = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        return super().update_state(entropy, sample_weight=sample_weight)

    def result(self):
        return keras.ops.exp(super().result())


SEQEXP_METRICS = {"perplexity": Perplexity}


def resolve(names) -> list:
    """Metric names -> what `model.compile` takes: seqexp's own names become metric objects."""
    return [SEQEXP_METRICS[name]() if name in SEQEXP_METRICS else name for name in names]
