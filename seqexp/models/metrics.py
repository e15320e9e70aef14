"""Metrics Keras does not ship: perplexity of a next-token model.

`Perplexity` can sit in `TASK_HEADS` without importing Keras (the table is read before TensorFlow
loads): Keras' `compile` instantiates a metric class it is given, and instantiating this name
returns the real Keras metric, built on first use.
"""

from __future__ import annotations

from functools import cache


class Perplexity:
    """exp(mean sparse categorical cross-entropy) of softmax outputs: the vocabulary size for a
    uniform guess, 1 for a perfect model. Logged as `perplexity` / `val_perplexity`."""

    metric_name = "perplexity"

    def __new__(cls, name: str = "perplexity", **kwargs):
        return keras_perplexity()(name=name, **kwargs)


# Metric names a config may use (trainer.metrics=[accuracy,perplexity]) beyond Keras' own.
NAMED = {"perplexity": Perplexity}


def resolve(metrics) -> list:
    """Config metric names -> what `model.compile` takes: seqexp's own names become classes."""
    return [NAMED.get(m, m) if isinstance(m, str) else m for m in metrics]


def metric_name(metric) -> str:
    """The name Keras logs a metric under (`val_` + it for validation), string or class."""
    if isinstance(metric, str):
        return metric
    return getattr(metric, "metric_name", None) or getattr(metric, "name", None) or str(metric)


@cache
def keras_perplexity():
    import keras

    @keras.saving.register_keras_serializable(package="seqexp", name="Perplexity")
    class KerasPerplexity(keras.metrics.Mean):
        """Averages the per-sample cross-entropy like Keras' loss and reports its exponential."""

        def __init__(self, name="perplexity", dtype=None):
            super().__init__(name=name, dtype=dtype)

        def update_state(self, y_true, y_pred, sample_weight=None):
            entropy = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
            return super().update_state(entropy, sample_weight=sample_weight)

        def result(self):
            return keras.ops.exp(super().result())

    return KerasPerplexity
