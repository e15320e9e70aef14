"""The cheaper defaults of the epoch-end work: the backup after the first epoch, then at most
every callbacks.backup.every_s seconds, and when fit ends; the curve PNGs at most every
trainer.curves_every_s seconds and always once more when fit ends; TensorBoard's scalars per
epoch only, with no per-batch work."""

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
    save = keras_callbacks.AtomicBackupAndRestore.save

    def spy(self, trained=False):
        epoch = self.position[0]
        saved.append(f"end {epoch}" if trained else epoch)
        save(self, trained)

    monkeypatch.setattr(keras_callbacks.AtomicBackupAndRestore, "save", spy)
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


def test_tensorboard_does_no_per_batch_work_and_still_writes_every_epoch(tmp_path, jena_csv):
    """Keras' TensorBoard, even at update_freq="epoch", hands every batch's logs to
    tf.summary.scalar (with no writer set: nothing is written, ~0.2 ms a batch). seqexp's does
    nothing per batch, and writes what Keras' writes: the model summary and the epochs."""
    import keras
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from seqexp.run.callbacks import tensorboard

    class Summaries:  # stands in for the tf.summary module the callback writes through
        def __init__(self):
            self.made = []

        def scalar(self, name, *args, **kwargs):
            self.made.append(name)

    for callback, per_batch in ((keras.callbacks.TensorBoard(str(tmp_path / "k")), ["batch_loss"]),
                                (tensorboard(log_dir=str(tmp_path / "s")), [])):  # fmt: skip
        callback._summary_module = Summaries()
        callback._should_write_train_graph = False  # set_model's, which needs a built model
        callback.on_train_batch_begin(0)
        callback.on_train_batch_end(0, {"loss": 0.5})
        assert callback.summary.made == per_batch, type(callback).__name__

    run = tmp_path / "run"
    tiny = [*TINY_JENA, "trainer.epochs=2", "trainer.steps_per_epoch=5", "callbacks.tensorboard.enabled=true"]
    train(compose_train(run, f"data.path={jena_csv}", *tiny))
    for split in ("train", "validation"):
        events = EventAccumulator(str(run / "tensorboard" / split))
        events.Reload()
        assert [e.step for e in events.Tensors("epoch_loss")] == [0, 1], split
        assert not [tag for tag in events.Tags()["tensors"] if tag.startswith("batch_")], split
    events = EventAccumulator(str(run / "tensorboard" / "train"))
    events.Reload()
    assert {"keras", "epoch_loss", "epoch_mae", "epoch_learning_rate"} <= set(events.Tags()["tensors"])
