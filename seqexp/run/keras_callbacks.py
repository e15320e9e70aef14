"""The Keras subclasses behind seqexp's callbacks (imported with Keras, when a run fits).

Keras' ModelCheckpoint and BackupAndRestore write their files in place, so a run killed while
they write leaves a torn checkpoint. The subclasses here write to a temporary name and rename
(seqexp.atomic), with Ctrl-C/SIGTERM held until the file is complete.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import keras

from seqexp.atomic import replacing, write_text
from seqexp.interrupt import raise_if_signalled
from seqexp.readback import DamagedFile, json_object
from seqexp.reports.curves import plot_curves
from seqexp.run.keras_internals import BackupHooks, CheckpointHooks
from seqexp.run.monitor import Monitor
from seqexp.run.resume import REPAIR
from seqexp.run.rundir import write_history

_log = logging.getLogger("seqexp.run.train")


def reserve_space(model, folder: Path) -> None:
    """Claim the space a .weights.h5 file of `model` needs before h5py writes it, and give it
    back just before: h5py cannot recover from a write that finds the disk full (its file stays
    open inside HDF5, which prints "Exception ignored" tracebacks and segfaults at exit), whereas
    this raises a plain OSError (ENOSPC or EDQUOT: posix_fallocate honours quotas and tmpfs
    limits) that ends the run with one sentence, resumable. The size: every variable of the model
    and its optimizer, plus HDF5's metadata (generously: 4 KiB a variable and 64 KiB)."""
    variables = list(model.weights)
    if getattr(model, "optimizer", None) is not None and getattr(model.optimizer, "built", False):
        variables += list(model.optimizer.variables)
    size = sum(int(math.prod(v.shape)) * _itemsize(v.dtype) for v in variables)
    size += 4096 * len(variables) + 65536
    path = Path(folder) / f"tmp.{os.getpid()}.reserve"
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as err:
        if err.errno in (errno.EOPNOTSUPP, errno.EINVAL):  # a filesystem without fallocate
            if shutil.disk_usage(folder).free >= size:
                return
            err = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        raise OSError(err.errno, err.strerror, str(folder)) from None
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)


def _itemsize(dtype) -> int:
    import numpy as np

    return np.dtype(keras.backend.standardize_dtype(dtype).replace("bfloat16", "float16")).itemsize


class AtomicModelCheckpoint(CheckpointHooks):
    """ModelCheckpoint whose file is replaced atomically: the best checkpoint so far stays valid.
    Keras decides when to save (and updates `best`); this writes the file."""

    def write(self, filepath: str) -> None:
        Path(filepath).parent.mkdir(parents=True, exist_ok=True)
        with replacing(filepath) as tmp:
            if self.save_weights_only:  # h5py cannot survive a full disk mid-write
                reserve_space(self.model, Path(filepath).parent)
            super().write(tmp)


class AtomicBackupAndRestore(BackupHooks):
    """BackupAndRestore whose files are replaced atomically and which also restores the random
    state of dropout (the layers' seed generators), so a resumed run repeats the dropout masks
    an uninterrupted run would have drawn.

    The weights are renamed into place before the epoch record, so a kill between the two
    renames repeats one epoch from newer weights at worst; it never loses one.

    Keras deletes the backup when `fit` returns; this one keeps it, saving the final weights
    (early stopping's best epoch, if it restored one) with `"trained": true`, so a run killed
    during the test evaluation or the reports resumes without training again. seqexp.run.train
    deletes the backup once metrics.json says the run is finished.

    `every_s` > 0 backs up after the first epoch and then only once `every_s` seconds have passed
    since the last backup (and when fit ends, above): a backup of a small model costs tens of ms,
    a large share of a short epoch. A kill loses at most the epochs since the last backup, which
    a resumed run trains again on the same batches.
    """

    stopper = None  # the run's EarlyStopping, if any: whether the final weights are its best epoch

    def __init__(self, backup_dir, every_s: float = 0, **kwargs):
        super().__init__(backup_dir, **kwargs)
        self.every_s = every_s
        self._saved_at = None

    def on_epoch_end(self, epoch, logs=None):
        if self._saved_at is None or time.perf_counter() - self._saved_at >= self.every_s:
            super().on_epoch_end(epoch, logs)
            self._saved_at = time.perf_counter()
        else:  # Keras' own bookkeeping for the next save
            self.position = (epoch + 1, 0)

    def save(self, trained: bool = False) -> None:
        Path(self.backup_dir).mkdir(parents=True, exist_ok=True)
        reserve_space(self.model, Path(self.backup_dir))
        with replacing(self.weights_file) as tmp:
            self.model.save_weights(tmp, overwrite=True)
        epoch, batch = self.position
        record = {
            "epoch": epoch,
            "batch": batch,
            "seed_states": [v.numpy().tolist() for v in seed_states(self.model)],
        }
        if trained:
            stopper = self.stopper
            record.update(
                trained=True,
                stopped_early=bool(self.model.stop_training),
                restored_best=bool(stopper and stopper.restore_best_weights and stopper.best_weights),
            )
        write_text(self.record_file, json.dumps(record))

    def on_train_begin(self, logs=None):
        try:  # Keras falls back to the previous backup itself when it keeps one
            super().on_train_begin(logs)
        except OSError as err:  # a torn or foreign weights file (h5py)
            raise DamagedFile(self.weights_file, f"its weights cannot be loaded ({err})", REPAIR) from None

    def on_train_end(self, logs=None):
        if self.position[0]:  # at least one epoch, this time or before
            self.save(trained=True)

    def restore(self) -> None:
        super().restore()
        path = Path(self.record_file)
        if path.exists():
            saved = json_object(path, fix=REPAIR).get("seed_states", [])
            states = seed_states(self.model)
            if len(saved) == len(states):
                for variable, value in zip(states, saved, strict=True):
                    variable.assign(value)


def seed_states(model) -> list:
    """The state variables of the model's seed generators (dropout masks), in a fixed order."""
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


class StopOnNaN(keras.callbacks.TerminateOnNaN):
    """TerminateOnNaN that remembers where the loss stopped being finite."""

    def __init__(self):
        super().__init__()
        self.epoch = 0
        self.where: str | None = None  # "epoch 3, batch 17" once the loss is nan or inf
        self.loss: float | None = None  # the loss there

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)) and self.where is None:
            self.where = f"epoch {self.epoch + 1}, batch {batch + 1}"
            self.loss = float(loss)
        super().on_batch_end(batch, logs)


class StopOnSignal(keras.callbacks.Callback):
    """Ends fit with `Interrupted` after the batch in which a Ctrl-C or SIGTERM came, if the
    handler's own exception was dropped (seqexp.interrupt: raised inside a finalizer)."""

    def on_train_batch_end(self, batch, logs=None):
        raise_if_signalled()

    def on_test_batch_end(self, batch, logs=None):
        raise_if_signalled()

    def on_epoch_end(self, epoch, logs=None):
        raise_if_signalled()


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """Keras' TensorBoard at its default `update_freq="epoch"`, without its per-batch work: at that
    setting Keras' batch hook still passes every batch's logs to `tf.summary.scalar`, with no
    writer set, so nothing is written (~0.2 ms a batch: 3-4 % of a Fashion-MNIST or headlines
    step). Its batch hooks also write the model graph after the first batch, which Keras 3's
    train function never offers (no `function_spec`): no graph either way."""

    on_train_batch_begin = keras.callbacks.Callback.on_train_batch_begin  # Keras' empty defaults
    on_train_batch_end = keras.callbacks.Callback.on_train_batch_end
    on_test_batch_begin = keras.callbacks.Callback.on_test_batch_begin


class EpochEvents(keras.callbacks.Callback):
    """The epoch scalars of Keras' TensorBoard callback (train/ and validation/ folders, tags
    `epoch_<metric>`), written without TensorFlow (seqexp.run.tb_events): a JAX run's TensorBoard
    logs, which Keras' callback writes with `tf.summary` only."""

    def __init__(self, log_dir: str):
        super().__init__()
        self.log_dir = Path(log_dir)
        self._writers = {}

    def on_epoch_end(self, epoch, logs=None):
        from seqexp.run.tb_events import EventWriter

        for key, value in (logs or {}).items():
            folder, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            if folder not in self._writers:
                self._writers[folder] = EventWriter(self.log_dir / folder)
            self._writers[folder].scalar(f"epoch_{name}", float(value), epoch)
        for writer in self._writers.values():
            writer.flush()  # every epoch on disk, as the curves are

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


class RunReporter(keras.callbacks.Callback):
    """Keeps the per-epoch history, rewrites history.csv after every epoch, redraws the curve PNGs
    at most every `curves_every_s` seconds (0: every epoch) and times training. history.csv is
    replaced atomically after every epoch (Keras' CSVLogger appends in place, so a kill could
    leave half a row). Drawing the PNGs costs ~100-200 ms of matplotlib, so on short epochs they
    are redrawn only now and then; `draw()` draws them once more when fit ends, however it ends.

    Training time excludes validation (the clock stops when validation starts), so
    `samples_per_second` measures fitting throughput only.
    """

    def __init__(
        self,
        run_dir: Path,
        batch_size: int,
        title: str = "",
        monitor: Monitor | None = None,
        reference: Mapping | None = None,
        curves_every_s: float = 0,
    ):
        super().__init__()
        self.curves_every_s = curves_every_s
        self._drawn_at = None  # when the PNGs were last drawn (or training began)
        self._drawn_epochs = -1  # how many epochs the PNGs show
        self.run_dir = Path(run_dir)
        self.batch_size = batch_size
        self.title = title
        self.monitor = monitor  # picks the best epoch starred on the curves
        self.reference = reference  # the book's figure, dashed on the curves of its metric
        self.history: dict[str, list[float]] = {}
        self.train_seconds = 0.0
        self.train_batches = 0
        self._epoch_start = None

    def on_train_begin(self, logs=None):
        self._drawn_at = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    # No per-batch hook: a callback with one makes Keras hand every batch's logs to Python,
    # which costs a few % of a short step. Batches are counted per epoch instead.

    def on_test_begin(self, logs=None):
        self._stop_clock()

    def on_epoch_end(self, epoch, logs=None):
        self._stop_clock()
        self.train_batches += self.params.get("steps") or 0
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        write_history(self.run_dir, self.history)
        if self._drawn_at is None or time.perf_counter() - self._drawn_at >= self.curves_every_s:
            self.draw()

    def draw(self) -> None:
        """Draw the curve PNGs of the history so far (nothing if they already show it)."""
        if self.history and self._drawn_epochs != self.epochs_run:
            plot_curves(self.history, self.run_dir, self.title, self.best_epoch, self.reference)
            self._drawn_epochs = self.epochs_run
        self._drawn_at = time.perf_counter()

    def _stop_clock(self):
        if self._epoch_start is not None:
            self.train_seconds += time.perf_counter() - self._epoch_start
            self._epoch_start = None

    @property
    def best_epoch(self) -> int | None:
        """The best epoch so far by the run's monitor (from 1), as the checkpoint picks it."""
        if self.monitor is None or self.monitor.name not in self.history:
            return None
        index = self.monitor.best_index(self.history[self.monitor.name])
        return None if index is None else index + 1

    @property
    def epochs_run(self) -> int:
        return len(self.history.get("loss", []))

    @property
    def samples_per_second(self) -> float | None:
        if not self.train_seconds:
            return None
        return self.train_batches * self.batch_size / self.train_seconds


class EpochLines(keras.callbacks.Callback):
    """One log line per epoch ("Epoch 2/10: loss 0.3121, val_loss 0.2954 (1.3 s)"): Keras' progress
    bar redraws itself with carriage returns, which a file (train.log, a SLURM log, a pipe) keeps
    as one unreadable line. `console`: to every handler (off a terminal, where fit prints
    nothing); else to the log files only (train.log; on a terminal Keras' bar shows the epoch)."""

    def __init__(self, epochs: int, console: bool):
        super().__init__()
        self.epochs, self.console = epochs, console
        self._started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        values = ", ".join(f"{k} {float(v):.4g}" for k, v in (logs or {}).items() if _is_number(v))
        text = f"Epoch {epoch + 1}/{self.epochs}: {values} ({time.perf_counter() - self._started:.1f} s)"
        record = _log.makeRecord(_log.name, logging.INFO, __file__, 0, "%s", (text,), None)
        if self.console:
            _log.handle(record)
        else:
            for handler in logging.getLogger().handlers:
                if isinstance(handler, logging.FileHandler):
                    handler.handle(record)


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def epoch_progress(verbose: int, epochs: int) -> tuple[int, EpochLines]:
    """(fit's verbose, the epoch-line callback): `verbose` on a terminal; off one (stdout a pipe
    or a file) fit prints nothing and each epoch is one line, unless verbose=0."""
    if sys.stdout.isatty():
        return verbose, EpochLines(epochs, console=False)
    return 0, EpochLines(epochs, console=verbose != 0)
