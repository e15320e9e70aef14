"""Early stopping's patience and mode, driven epoch by epoch (seqexp.run.callbacks.early_stopping):
a training stops after exactly `patience` epochs without improvement, never one later."""

from __future__ import annotations

import keras
import pytest

from seqexp.run.callbacks import early_stopping


def stopped_at(values: list[float], **settings) -> int | None:
    """The epoch (from 0) at which the callback stops training on these monitored values."""
    callback = early_stopping(
        **{"monitor": "val_loss", "mode": "min", "restore_best_weights": False, **settings}
    )
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.stop_training = False  # fit sets it; the callback turns it on
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {callback.monitor: value})
        if model.stop_training:
            return epoch
    return None


@pytest.mark.parametrize("patience", [1, 2, 3])
def test_patience_is_the_epochs_without_improvement_before_the_stop(patience):
    worse = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]
    assert stopped_at(worse, patience=patience) == patience
    assert stopped_at([1.0, 0.9, 0.8, 0.7, 0.6, 0.5], patience=patience) is None  # always improving


def test_the_mode_decides_what_improves():
    rising = [0.5, 0.6, 0.7, 0.8]
    assert stopped_at(rising, monitor="val_accuracy", mode="max", patience=1) is None
    assert stopped_at(rising, monitor="val_accuracy", mode="min", patience=1) == 1
