"""The monitored metric's rules (seqexp.run.monitor): which epoch is best, in which direction,
and which monitors a run may name. No TensorFlow."""

from __future__ import annotations

import math

import pytest

from seqexp.errors import SeqexpError
from seqexp.run.monitor import Monitor, best_mode, logged_names, settle


def test_the_best_epoch_is_the_first_best_finite_one():
    low = Monitor("val_loss", "min")
    assert low.best_index([0.5, 0.3, 0.3, 0.4]) == 1  # a later tie does not replace it
    assert low.best_index([math.nan, 0.4, math.inf]) == 1  # nan never wins; inf is never best
    assert low.best_index([math.nan, math.nan]) is None
    high = Monitor("val_accuracy", "max")
    assert high.best_index([0.7, 0.9, 0.9, math.nan]) == 1
    assert high.best([0.7, 0.9, 0.8]) == 0.9 and low.best([0.7, 0.9, 0.8]) == 0.7


def test_keras_mode_rule_and_an_explicit_mode():
    assert [best_mode(m) for m in ("val_loss", "val_mae", "val_accuracy", "val_auc", "recall")] == [
        "min",
        "min",
        "max",
        "max",
        "max",
    ]
    assert best_mode("val_loss", "max") == "max" and best_mode("val_accuracy", "min") == "min"


def test_settle_falls_back_to_training_values_without_a_validation_split():
    logged = logged_names(["accuracy"], has_validation=False)
    assert logged == ["loss", "accuracy"]
    assert settle("val_accuracy", "auto", logged, False, {}) == Monitor("accuracy", "max")
    with pytest.raises(SeqexpError, match=r"callbacks.checkpoint.monitor=val_auc is not logged"):
        settle(
            "val_loss", "auto", logged_names(["mae"], True), True, {"callbacks.checkpoint.monitor": "val_auc"}
        )
