"""Every use of Keras' private API in seqexp, behind public names (imported with Keras, when a run fits).

seqexp's checkpoint and backup write their files atomically and keep more state than Keras does,
which Keras offers no public hook for: the two base classes below override Keras' private save and
load methods once and hand seqexp named hooks instead. Each private name is commented with the
public behaviour it stands for. `PRIVATE` lists them all; tests/test_keras_internals.py fails on a
Keras that lacks one. The newest of them, ModelCheckpoint._should_save_model, appeared in Keras
3.10.0 (keras-team/keras#21100), hence `keras>=3.10` in pyproject.toml.
"""

from __future__ import annotations

import keras

KERAS_FLOOR = "3.10"  # the oldest Keras with every name below; pyproject.toml's `keras>=`

# (Keras class, names on the class, names an instance sets in __init__) seqexp relies on.
PRIVATE = (
    (keras.callbacks.ModelCheckpoint, ("_save_model", "_get_file_path", "_should_save_model"), ()),
    (
        keras.callbacks.BackupAndRestore,
        ("_save_model", "_load_model"),
        ("_current_epoch", "_last_batch_seen", "_weights_path", "_training_metadata_path"),
    ),
)


class CheckpointHooks(keras.callbacks.ModelCheckpoint):
    """ModelCheckpoint whose file write is the hook `write(filepath)`; when to save stays Keras'."""

    def write(self, filepath: str) -> None:
        """Save the model to `filepath` as ModelCheckpoint does (subclasses write it their way)."""
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def _save_model(self, epoch, batch, logs):
        # Keras calls this at every save point of `save_freq` (each epoch end, by default).
        # _get_file_path: the `filepath` argument formatted with the epoch, batch and logs.
        # _should_save_model: save_best_only's decision, which also updates `self.best` (and
        # prints the verbose "improved from" line), exactly as the public callback decides.
        filepath = self._get_file_path(epoch, batch, logs)
        if self._should_save_model(epoch, batch, logs, filepath):
            self.write(filepath)


class BackupHooks(keras.callbacks.BackupAndRestore):
    """BackupAndRestore with its save and its restore as the hooks `save()` and `restore()`, and
    the files and position it keeps as properties."""

    @property
    def weights_file(self) -> str:
        """<backup_dir>/latest.weights.h5: the weights `fit` restores on a rerun."""
        return self._weights_path

    @property
    def record_file(self) -> str:
        """<backup_dir>/training_metadata.json: {"epoch", "batch"}; `fit` restarts after "epoch"."""
        return self._training_metadata_path

    @property
    def position(self) -> tuple[int, int]:
        """(epochs finished, last batch seen): what the next save records."""
        return self._current_epoch, self._last_batch_seen

    @position.setter
    def position(self, value: tuple[int, int]) -> None:
        # What Keras' on_epoch_end records before it saves, for an epoch end that skips the save.
        self._current_epoch, self._last_batch_seen = value

    def save(self) -> None:
        """Write the backup as BackupAndRestore does at an epoch end (subclasses write it their way)."""
        keras.callbacks.BackupAndRestore._save_model(self)

    def restore(self) -> None:
        """Load the backup's weights and initial epoch into the model, as `fit` does when it starts."""
        keras.callbacks.BackupAndRestore._load_model(self)

    def _save_model(self):
        # Keras calls this from on_epoch_end (or every `save_freq` batches).
        self.save()

    def _load_model(self):
        # Keras calls this from on_train_begin (twice when it falls back to a double checkpoint).
        self.restore()


def hide_tensorflow() -> None:
    """Make Keras behave as on a machine without TensorFlow (a JAX run's own process).

    Keras asks `module_utils.tensorflow.available` in several places whatever the backend (its
    set_random_seed, the model serialiser), and that imports TensorFlow whenever it is installed:
    ~6 s and ~1 GB for nothing. Marking the lazy module unavailable (its private `_available`,
    which `available` caches) is what Keras itself finds where TensorFlow is not installed. Not done
    when TensorFlow is already loaded: then nothing is saved by it."""
    import sys

    from keras.src.utils import module_utils

    if "tensorflow" not in sys.modules:
        module_utils.tensorflow._available = False
