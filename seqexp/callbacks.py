"""Callbacks of a run: the switchable ones from cfg.callbacks, plus the run-directory reporter."""

from __future__ import annotations

import time
from pathlib import Path

import keras
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from seqexp.plots import plot_curves


def configured_callbacks(callbacks_cfg: DictConfig) -> list[keras.callbacks.Callback]:
    """Instantiate every callback of cfg.callbacks whose `enabled` flag is true."""
    built = []
    for node in callbacks_cfg.values():
        kwargs = OmegaConf.to_container(node, resolve=True)
        if kwargs.pop("enabled", True):
            built.append(instantiate(kwargs))
    return built


class RunReporter(keras.callbacks.Callback):
    """Keeps the per-epoch history, redraws the curve PNGs each epoch and times training.

    Training time excludes validation (the clock stops when validation starts), so
    `samples_per_second` measures fitting throughput only.
    """

    def __init__(self, run_dir: Path, batch_size: int, title: str = ""):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.batch_size = batch_size
        self.title = title
        self.history: dict[str, list[float]] = {}
        self.train_seconds = 0.0
        self.train_batches = 0
        self._epoch_start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.train_batches += 1

    def on_test_begin(self, logs=None):
        self._stop_clock()

    def on_epoch_end(self, epoch, logs=None):
        self._stop_clock()
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        plot_curves(self.history, self.run_dir, self.title)

    def _stop_clock(self):
        if self._epoch_start is not None:
            self.train_seconds += time.perf_counter() - self._epoch_start
            self._epoch_start = None

    @property
    def epochs_run(self) -> int:
        return len(self.history.get("loss", []))

    @property
    def samples_per_second(self) -> float | None:
        if not self.train_seconds:
            return None
        return self.train_batches * self.batch_size / self.train_seconds
