"""Where each millisecond of a whole epoch goes, two ways.

1. Timed inside fit: every hook each callback of seqexp's defaults has (epoch begin and end,
   batch end, validation begin and end) runs under a clock on the training thread, and so does
   Keras' per-batch dispatch of the logs to all callbacks. This is each callback's own cost per
   epoch, to the tenth of a millisecond, whatever the machine's noise.
2. Switched off in turn: seqexp's `train(cfg)` with every default, then with one callback
   switched off (or back to its old every-epoch setting) at a time. A callback's cost per epoch =
   median whole epoch with the defaults - median whole epoch without it. This also sees work a
   callback leaves to other threads, but on a 2-core VM two identical runs differ by more than
   most callbacks cost, as "defaults again" (the A/A pair: the same run twice) shows. history.csv
   and the NaN guard have no switch (they are the run directory's contract and the divergence
   stop), so here they are switched off by replacing them for the measurement only.

Whole epoch = training + validation + every epoch-end callback (on_epoch_begin to the next),
first epoch dropped. At full size one untimed run warms the process up first (the first train()
of a process ran ~40 % slower epochs, which the old single-pass table read as callback costs).
"""

from __future__ import annotations

import logging
import shutil
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

from benchmarks.stats import summary
from benchmarks.training import CASES, compose
from benchmarks.whole import case_overrides

log = logging.getLogger(__name__)

# label -> (overrides, patch): each variant differs from "defaults" in one thing
VARIANTS = {
    "defaults": ([], None),
    "defaults again (A/A)": ([], None),
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


# seqexp's default callbacks by class, and what the tables call them
LABELS = {
    "StopOnNaN": "NaN guard",
    "RunReporter": "history.csv and curves",
    "AtomicModelCheckpoint": "checkpoint",
    "EpochTensorBoard": "TensorBoard",
    "AtomicBackupAndRestore": "backup",
    "EarlyStopping": "early stopping",
}
HOOKS = (
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_end",
)
DISPATCH = "Keras' per-batch dispatch (all callbacks)"


@contextmanager
def hook_clocks(seconds: dict, epoch: list):
    """While fit runs, time every hook a seqexp callback overrides and Keras' per-batch
    dispatch; `seconds[label][e]` sums the hooks' seconds in epoch e (epoch[0], kept by the
    caller's last callback). Only overridden hooks get a clock, so Keras' choice of synchronous
    or asynchronous batch dispatch (it looks for overridden batch hooks) is unchanged."""
    from keras.src.callbacks.callback_list import CallbackList
    from keras.src.utils.python_utils import is_default

    def clocked(label, method):
        def hook(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent = seconds.setdefault(label, {})
                spent[epoch[0]] = spent.get(epoch[0], 0.0) + time.perf_counter() - start

        return hook

    original_init, original_dispatch = CallbackList.__init__, CallbackList.on_train_batch_end

    def init(self, callbacks=None, *args, **kwargs):
        for callback in callbacks or []:
            label = LABELS.get(type(callback).__name__)
            for name in HOOKS if label else ():
                method = getattr(callback, name)
                if not is_default(method):
                    setattr(callback, name, clocked(label, method))
        original_init(self, callbacks, *args, **kwargs)

    CallbackList.__init__ = init
    CallbackList.on_train_batch_end = clocked(DISPATCH, original_dispatch)
    try:
        yield
    finally:
        CallbackList.__init__, CallbackList.on_train_batch_end = original_init, original_dispatch


def whole_epochs(cfg, patch, hooks: dict | None = None) -> list[float]:
    """train(cfg) with a whole-epoch timer after seqexp's callbacks: the seconds of each epoch;
    with `hooks`, also each callback's hook seconds per epoch (hook_clocks)."""
    import keras

    import seqexp.run.callbacks as callbacks
    from seqexp.run.train import train

    epoch = [0]

    class Stamps(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.stamps = []

        def on_epoch_begin(self, e, logs=None):
            epoch[0] = e
            self.stamps.append(time.perf_counter())

        def on_train_end(self, logs=None):
            self.stamps.append(time.perf_counter())

    timer = Stamps()
    original = callbacks.configured_callbacks
    callbacks.configured_callbacks = lambda c, monitor: [*original(c, monitor), timer]
    try:
        with switched_off(patch) if patch else nullcontext():
            with hook_clocks(hooks, epoch) if hooks is not None else nullcontext():
                train(cfg)
    finally:
        callbacks.configured_callbacks = original
    return list(np.diff(timer.stamps))


def bench_case(name: str, size: str, folder: Path, reps: int, epochs: int) -> dict:
    overrides = case_overrides(name, size, folder, epochs)
    runs = folder / "callbacks" / name
    shutil.rmtree(runs, ignore_errors=True)
    if size == "full":  # warm the process up: its first train() runs slower epochs
        whole_epochs(compose(runs / "warm-up", overrides), None)
    epoch_ms = {label: [] for label in VARIANTS}
    hook_ms: dict[str, list[float]] = {}  # callback -> its hooks' ms in each timed epoch
    labels = list(VARIANTS)
    for rep in range(reps):
        for i, label in enumerate(labels[rep % len(labels) :] + labels[: rep % len(labels)]):
            extra, patch = VARIANTS[label]
            cfg = compose(runs / f"{rep}_{i}", [*overrides, *extra])
            hooks = {} if label == "defaults" else None
            seconds = whole_epochs(cfg, patch, hooks)[1:]  # first epoch (tracing) dropped
            epoch_ms[label] += [s * 1000 for s in seconds]
            for callback, per_epoch in (hooks or {}).items():
                timed = [per_epoch.get(e, 0.0) * 1000 for e in range(1, len(seconds) + 1)]
                hook_ms.setdefault(callback, []).extend(timed)
            log.info("%s %s: %s ms", name, label, [round(s * 1000) for s in seconds])
    median = {label: float(np.median(v)) for label, v in epoch_ms.items()}
    return {
        "epoch_ms": median,
        "hook_ms": {callback: summary(v) for callback, v in hook_ms.items()},
        "noise_ms": abs(median["defaults again (A/A)"] - median["defaults"]),
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
