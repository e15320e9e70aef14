"""Keras' private API in one adapter (seqexp/run/keras_internals.py): the installed Keras has every
name it uses, the declared floor in pyproject.toml is the adapter's, and its hooks behave as the
public callbacks do."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path

import keras
import numpy as np

from seqexp.run import keras_internals
from seqexp.run.keras_internals import BackupHooks, CheckpointHooks
from tests.conftest import PROJECT_ROOT

# Private names the suite itself sets to stub a writer (not seqexp's code): tests/test_callback_intervals.py
# (TensorBoard's summary module and the graph switch its set_model sets).
TEST_ONLY = ((keras.callbacks.TensorBoard, ("_summary_module", "_should_write_train_graph")),)
# keras.src names read as oracles by the suite (tests/models/test_cudnn.py: Keras' own cuDNN
# eligibility rules; tests/data/test_protocols.py: the reference code's split and cache) and by the
# benchmark's hook clocks (benchmarks/callbacks.py).
ORACLES = {
    "keras.src.backend.tensorflow.rnn": (
        "_do_gru_arguments_support_cudnn",
        "_do_lstm_arguments_support_cudnn",
    ),
    "keras.src.backend.config": ("_KERAS_DIR",),
    "keras.src.trainers.data_adapters.array_slicing": ("train_validation_split",),
    "keras.src.callbacks.callback_list": ("CallbackList",),
    "keras.src.utils.python_utils": ("is_default",),
}


def missing_names() -> list[str]:
    """The private names the adapter (and the suite) use that this Keras lacks."""
    missing = []
    for cls, on_class, on_instance in keras_internals.PRIVATE:
        missing += [f"{cls.__name__}.{n}" for n in on_class if not hasattr(cls, n)]
        instance = cls("/tmp/unused-backup") if cls is keras.callbacks.BackupAndRestore else None
        missing += [f"{cls.__name__}().{n}" for n in on_instance if not hasattr(instance, n)]
    for cls, names in TEST_ONLY:
        source = inspect.getsource(cls)
        missing += [f"{cls.__name__}().{n}" for n in names if f"self.{n} =" not in source]
    for module, names in ORACLES.items():
        found = importlib.import_module(module)
        missing += [f"{module}.{n}" for n in names if not hasattr(found, n)]
    return missing


def test_the_installed_keras_has_every_private_name_used():
    assert keras_internals.PRIVATE and missing_names() == []


def test_pyproject_declares_the_adapters_keras_floor():
    """The floor is where the newest private name appeared (ModelCheckpoint._should_save_model,
    Keras 3.10.0); an older Keras would fail the test above."""
    (floor,) = re.findall(r'^\s*"keras>=([\d.]+),', (PROJECT_ROOT / "pyproject.toml").read_text(), re.M)
    assert floor == keras_internals.KERAS_FLOOR
    installed = tuple(int(p) for p in keras.__version__.split(".")[:2])
    assert installed >= tuple(int(p) for p in floor.split("."))


class Recorded(CheckpointHooks):
    def write(self, filepath: str) -> None:
        self.written.append((filepath, float(self.best)))


def test_the_checkpoint_hook_writes_when_keras_would_save(tmp_path):
    """save_best_only: Keras decides (and updates `best`), the hook writes to the formatted path."""
    callback = Recorded(str(tmp_path / "e{epoch}.keras"), monitor="val_loss", save_best_only=True)
    callback.written = []
    callback.set_model(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
    for epoch, loss in enumerate([0.5, 0.7, 0.3, 0.3]):
        callback.on_epoch_end(epoch, {"val_loss": loss})
    assert callback.written == [(str(tmp_path / "e1.keras"), 0.5), (str(tmp_path / "e3.keras"), 0.3)]


def test_the_backup_hooks_save_and_restore_as_keras_does(tmp_path):
    def model(value: float):
        m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
        m.compile(optimizer="sgd", loss="mse")
        m.layers[0].kernel.assign(np.full((2, 1), value, dtype="float32"))
        return m

    backup = BackupHooks(str(tmp_path / "backup"))
    backup.set_model(model(1.5))
    backup.position = (3, 0)
    backup.save()  # Keras' own save
    assert Path(backup.weights_file).parent == tmp_path / "backup"
    assert json.loads(Path(backup.record_file).read_text()) == {"epoch": 3, "batch": 0}

    again = BackupHooks(str(tmp_path / "backup"))
    again.set_model(model(0.0))
    again.on_train_begin()  # Keras calls the restore hook
    assert float(again.model.layers[0].kernel.numpy()[0, 0]) == 1.5
