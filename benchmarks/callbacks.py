"""Where each millisecond of a whole epoch goes: seqexp's `train(cfg)` with every default, then
with one callback switched off (or back to its old every-epoch setting) at a time.

A callback's cost per epoch = median whole epoch with the defaults - median whole epoch without
it (negative or ~0: below the noise). Whole epoch = training + validation + every epoch-end
callback (on_epoch_begin to the next), first epoch dropped. history.csv and the NaN guard have no
switch (they are the run directory's contract and the divergence stop), so here they are
switched off by replacing them for the measurement only.
"""

from __future__ import annotations

import logging
import shutil
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

from benchmarks.training import CASES, compose
from benchmarks.whole import case_overrides

log = logging.getLogger(__name__)

# label -> (overrides, patch): each variant differs from "defaults" in one thing
VARIANTS = {
    "defaults": ([], None),
    "curves every epoch (the old default)": (["trainer.curves_every_s=0"], None),
    "backup every epoch (the old default)": (["callbacks.backup.every_s=0"], None),
    "without backup": (["callbacks.backup.enabled=false"], None),
    "without checkpoint": (["callbacks.checkpoint.enabled=false"], None),
    "without TensorBoard": (["callbacks.tensorboard.enabled=false"], None),
    "without history.csv": ([], "history"),
    "without NaN guard": ([], "nan_guard"),
}


@contextmanager
def switched_off(what: str | None):
    """Replace history.csv's writer or the NaN guard with nothing, for one run."""
    import keras

    import seqexp.run.keras_callbacks as kc

    if what is None:
        yield
        return
    name, original = ("write_history", kc.write_history) if what == "history" else ("StopOnNaN", kc.StopOnNaN)

    class NoGuard(keras.callbacks.Callback):
        where = loss = None

    setattr(kc, name, (lambda *args, **kwargs: None) if what == "history" else NoGuard)
    try:
        yield
    finally:
        setattr(kc, name, original)


def whole_epochs(cfg, patch) -> list[float]:
    """train(cfg) with a whole-epoch timer after seqexp's callbacks: the seconds of each epoch."""
    import keras

    import seqexp.run.callbacks as callbacks
    from seqexp.run.train import train

    class Stamps(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.stamps = []

        def on_epoch_begin(self, epoch, logs=None):
            self.stamps.append(time.perf_counter())

        def on_train_end(self, logs=None):
            self.stamps.append(time.perf_counter())

    timer = Stamps()
    original = callbacks.configured_callbacks
    callbacks.configured_callbacks = lambda c, monitor: [*original(c, monitor), timer]
    try:
        with switched_off(patch) if patch else nullcontext():
            train(cfg)
    finally:
        callbacks.configured_callbacks = original
    return list(np.diff(timer.stamps))


def bench_case(name: str, size: str, folder: Path, reps: int, epochs: int) -> dict:
    overrides = case_overrides(name, size, folder, epochs)
    runs = folder / "callbacks" / name
    shutil.rmtree(runs, ignore_errors=True)
    epoch_ms = {label: [] for label in VARIANTS}
    labels = list(VARIANTS)
    for rep in range(reps):
        for i, label in enumerate(labels[rep % len(labels) :] + labels[: rep % len(labels)]):
            extra, patch = VARIANTS[label]
            cfg = compose(runs / f"{rep}_{i}", [*overrides, *extra])
            seconds = whole_epochs(cfg, patch)[1:]  # first epoch (tracing) dropped
            epoch_ms[label] += [s * 1000 for s in seconds]
            log.info("%s %s: %s ms", name, label, [round(s * 1000) for s in seconds])
    median = {label: float(np.median(v)) for label, v in epoch_ms.items()}
    return {
        "epoch_ms": median,
        "cost_ms": {
            label: median["defaults"] - m for label, m in median.items() if label.startswith("without")
        },
        "old_default_extra_ms": {
            label: m - median["defaults"] for label, m in median.items() if "old default" in label
        },
        "timed_epochs": len(epoch_ms["defaults"]),
    }


# At the tiny size (the test suite's) one model runs every variant: the switching is the same
# code for each model, and all five cost ~50 s of the suite.
TINY_CASES = ["jena_conv1d"]


def run(size: str, folder: Path, cases=None) -> dict:
    reps, epochs = (1, 4) if size == "full" else (1, 2)
    cases = cases or (CASES if size == "full" else TINY_CASES)
    return {name: bench_case(name, size, folder, reps, epochs) for name in cases}
