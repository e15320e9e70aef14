"""The cheaper defaults of the epoch-end work: the backup after the first epoch, then at most
every callbacks.backup.every_s seconds, and when fit ends; the curve PNGs at most every
trainer.curves_every_s seconds and always once more when fit ends."""

from __future__ import annotations

import csv
import json

import pytest

import seqexp.run.keras_callbacks as keras_callbacks
from seqexp.run.train import train
from tests.conftest import TINY_JENA, compose_train

RUN = ["trainer.epochs=4", "callbacks.early_stopping.enabled=false", "callbacks.tensorboard.enabled=false"]


@pytest.fixture
def saved_epochs(monkeypatch):
    """The epoch count each backup records, in order."""
    saved = []
    save = keras_callbacks.AtomicBackupAndRestore._save_model

    def spy(self, trained=False):
        saved.append(f"end {self._current_epoch}" if trained else self._current_epoch)
        save(self, trained)

    monkeypatch.setattr(keras_callbacks.AtomicBackupAndRestore, "_save_model", spy)
    return saved


@pytest.fixture
def drawn(monkeypatch):
    """The number of epochs on the curves at each redraw."""
    epochs = []
    plot = keras_callbacks.plot_curves

    def spy(history, *args, **kwargs):
        epochs.append(len(history["loss"]))
        return plot(history, *args, **kwargs)

    monkeypatch.setattr(keras_callbacks, "plot_curves", spy)
    return epochs


@pytest.mark.parametrize(("every_s", "expected"), [(0, [1, 2, 3, 4, "end 4"]), (3600, [1, "end 4"])])
def test_backup_after_the_first_epoch_every_n_seconds_and_at_the_end(
    tmp_path, jena_csv, saved_epochs, every_s, expected
):
    train(
        compose_train(
            tmp_path / "run", f"data.path={jena_csv}", *TINY_JENA, *RUN, f"callbacks.backup.every_s={every_s}"
        )
    )
    assert saved_epochs == expected


def test_backup_when_early_stopping_ends_training(tmp_path, jena_csv, saved_epochs):
    """patience=0 with a learning rate of 0: epoch 2 does not improve, training stops there."""
    cfg = compose_train(
        tmp_path / "run",
        f"data.path={jena_csv}",
        *TINY_JENA,
        "trainer.epochs=6",
        "callbacks.early_stopping.patience=0",
        "callbacks.backup.every_s=3600",
        "optimizer.learning_rate=1e-12",
    )
    train(cfg)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "stopped early"
    assert saved_epochs == [1, f"end {metrics['epochs_run']}"]


@pytest.mark.parametrize(("every_s", "expected"), [(0, [1, 2, 3, 4]), (3600, [4])])
def test_curves_every_n_seconds_and_always_at_the_end(tmp_path, jena_csv, drawn, every_s, expected):
    run = tmp_path / "run"
    train(compose_train(run, f"data.path={jena_csv}", *TINY_JENA, *RUN, f"trainer.curves_every_s={every_s}"))
    assert drawn == expected
    assert len(list(csv.DictReader((run / "history.csv").open()))) == 4  # history.csv: every epoch
    assert (run / "loss.png").exists() and (run / "mae.png").exists()
