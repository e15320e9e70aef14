"""Training step time three ways, interleaved in one process, on synthetic data of the real shapes.

(a) seqexp: `seqexp.run.train.train(cfg)` on the config `seqexp train <overrides>` composes, every
    callback a user has (checkpoint, backup, TensorBoard, history and curves, NaN guard) on, early
    stopping off so every run has its epochs; verbose=0.
(b) floor: the same model (same builder, same seed, same compile) fitted on the batches (a)
    trains on, built once as in-memory tensors and served from a tf.data cache (no input work).
(c) reference: the notebooks' way: Jena through DLwP 6.3's Python generator (float64) fed to
    fit; IMDB and headlines padded in NumPy then fit (headlines with WD's one-hot targets);
    Fashion-MNIST HG's float64 NumPy images.

What this clock includes: the training steps of an epoch only, from `on_epoch_begin` to the
end of the last training batch. Validation and the epoch-end callbacks (history.csv, curves,
checkpoint, backup, TensorBoard) are outside it; benchmarks/whole.py times whole epochs and
whole runs, benchmarks/callbacks.py what each callback adds. The first epoch (tracing, warm-up)
is dropped; per-step time = epoch time / steps.
(b) differs from (a) in its input only: it runs with TensorFlow's op determinism on, as (a)'s
trainer.seed sets it, and serves its batches as one repeated stream with steps_per_epoch, as (a)
does (the floor before this ran with op determinism off and rebuilt its iterator each epoch, and
(a) beat it on jena lstm in every repetition: it was no floor). (c) runs with op determinism
off, as the notebooks do. The order of (a), (b), (c) and (b) again rotates every repetition:
(b)/(b again), the same work twice, is the A/A ratio, the noise any other ratio here carries.
"""

from __future__ import annotations

import logging
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from benchmarks import fixtures
from benchmarks.stats import ratio, summary

log = logging.getLogger(__name__)

JENA_ROWS = 420_551

# name -> (overrides, data writer, steps per epoch at full size)
CASES = {
    "jena_lstm": (["data=jena", "model=lstm"], "jena", 25),
    "jena_conv1d": (["experiment=jena_conv1d"], "jena", 60),
    "imdb_lstm": (["experiment=imdb_lstm"], "imdb", 15),
    "fashion_cnn": (["experiment=hg_fashion_cnn"], "fashion", 150),
    "headlines_text_lstm": (["experiment=headlines_text_lstm"], "headlines", 120),
}
REFERENCE_WAY = {
    "jena": "DLwP 6.3 Python generator (float64) fed to fit",
    "imdb": "pad_sequences in NumPy, fit(x, y) (DLwP 6.2)",
    "fashion": "float64 NumPy images / 255, fit(x, y) (HG 8-2)",
    "headlines": "pad_sequences in NumPy, one-hot targets, categorical cross-entropy (WD 11-2)",
}
TINY_JENA = [
    "data.split.train=[0,2500]",
    "data.split.val=[2500,3200]",
    "data.split.test=[3200,null]",
    "data.lookback=240",
    "data.step=3",
    "data.delay=12",
]


def data_overrides(kind: str, size: str, folder: Path) -> list[str]:
    full = size == "full"
    if kind == "jena":
        path = fixtures.jena_csv(folder, JENA_ROWS if full else 4000)
        return [f"data.path={path}", *([] if full else TINY_JENA)]
    if kind == "imdb":
        path = fixtures.imdb_npz(folder, *((25_000, 25_000) if full else (300, 100)))
        return [f"data.path={path}", *([] if full else ["data.maxlen=100"])]
    if kind == "fashion":
        return [f"data.path={fixtures.fashion_folder(folder, *((60_000, 10_000) if full else (500, 100)))}"]
    return [f"data.path={fixtures.headlines_csv(folder, 1324 if full else 100)}"]


def compose(run_dir: Path, overrides: list[str]):
    """The config `seqexp train <overrides>` composes, as the tests do (Hydra's compose API)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from seqexp.config import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = hydra_compose(
            "train", overrides=[f"paths.run_dir={run_dir}", *overrides], return_hydra_config=True
        )
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def epoch_timer(until_last_batch: bool = False):
    """A Keras callback timing the training part of each epoch.

    By default the clock stops at `on_test_begin` or `on_epoch_end`, whichever comes first, and
    the callback has no batch hooks (so it adds nothing per step). That is exact for (b) and
    (c), which have no other callback. In
    (a) this timer comes after seqexp's callbacks, whose `on_epoch_end` (curves, checkpoint)
    would run first: there `until_last_batch` stops the clock at the end of the last training
    batch instead. seqexp's own callbacks already have batch hooks, so one more changes nothing.
    """
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []  # wall time
            self.cpu_seconds: list[float] = []  # CPU time of the whole process (every thread)
            self.steps: list[int] = []  # training steps run, per epoch
            self._start = None

        def on_epoch_begin(self, epoch, logs=None):
            self._start, self._cpu_start = time.perf_counter(), time.process_time()
            self._iterations = int(self.model.optimizer.iterations)

        def on_test_begin(self, logs=None):
            self._stop()

        def on_epoch_end(self, epoch, logs=None):
            self._stop()
            # the optimizer's step counter: the training steps this epoch really ran
            self.steps.append(int(self.model.optimizer.iterations) - self._iterations)

        def _stop(self, wall=None, cpu=None):
            if self._start is not None:
                self.seconds.append((wall or time.perf_counter()) - self._start)
                self.cpu_seconds.append((cpu or time.process_time()) - self._cpu_start)
                self._start = None

    class LastBatchTimer(EpochTimer):
        def on_train_batch_end(self, batch, logs=None):
            self._last, self._last_cpu = time.perf_counter(), time.process_time()

        def _stop(self, wall=None, cpu=None):
            super()._stop(self._last, self._last_cpu)

    return LastBatchTimer() if until_last_batch else EpochTimer()


@contextmanager
def timing_seqexp(timer):
    """Add `timer` to the callbacks seqexp's train() builds, for the duration of one run."""
    import seqexp.run.callbacks as callbacks

    original = callbacks.configured_callbacks
    callbacks.configured_callbacks = lambda cfg, monitor: [*original(cfg, monitor), timer]
    try:
        yield
    finally:
        callbacks.configured_callbacks = original


def determinism(on: bool) -> None:
    import tensorflow as tf
    from tensorflow.python.framework import config

    if on:
        tf.config.experimental.enable_op_determinism()
    else:
        config.disable_op_determinism()


def run_seqexp(cfg):
    from seqexp.run.train import train

    timer = epoch_timer(until_last_batch=True)
    with timing_seqexp(timer):
        train(cfg)
    return timer


def same_model(cfg, spec):
    """A fresh model from the config's builder with the run's seed (the same initial weights)."""
    import keras
    from hydra.utils import instantiate

    keras.backend.clear_session()
    keras.utils.set_random_seed(cfg.trainer.seed)
    return instantiate(cfg.model)(spec)


def first_batches(dataset, steps: int):
    """The first `steps` batches of a dataset as two in-memory tensors (x, y)."""
    import tensorflow as tf

    xs, ys = zip(*dataset.take(steps), strict=True)
    return tf.concat(xs, 0), tf.concat(ys, 0)


def run_floor(cfg, data, steps: int, epochs: int):
    from hydra.utils import instantiate

    from seqexp.models.heads import TASK_HEADS
    from seqexp.models.metrics import resolve

    determinism(True)  # as (a): trainer.seed turns TF's op determinism on
    trainer = cfg.trainer
    model = same_model(cfg, data.spec)
    _, default_loss, default_metrics = TASK_HEADS[data.spec.task]
    model.compile(
        optimizer=instantiate(cfg.optimizer),
        loss=trainer.loss or default_loss,
        metrics=resolve(list(trainer.metrics or default_metrics)),
        jit_compile=trainer.get("jit_compile", False),
    )
    timer = epoch_timer()
    model.fit(
        floor_batches(data.train, steps, trainer.batch_size),
        epochs=epochs,
        steps_per_epoch=steps,
        verbose=0,
        callbacks=[timer],
    )
    return timer


def floor_batches(dataset, steps: int, batch: int):
    """The first `steps` batches built once and kept in memory: every epoch serves the same
    ready tensors (tf.data cache; filled in the untimed first epoch), no input work at all; one
    repeated stream, as (a)'s, so no epoch rebuilds an iterator."""
    import tensorflow as tf

    x, y = first_batches(dataset, steps)
    ready = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).cache()
    return ready.repeat().prefetch(tf.data.AUTOTUNE)


def dlwp_generator(data, lookback, delay, min_index, max_index, shuffle=False, batch_size=128, step=6):
    """DLwP 1st ed. 6.3.2's generator, as the book writes it."""
    if max_index is None:
        max_index = len(data) - delay - 1
    i = min_index + lookback
    while 1:
        if shuffle:
            rows = np.random.randint(min_index + lookback, max_index, size=batch_size)
        else:
            if i + batch_size >= max_index:
                i = min_index + lookback
            rows = np.arange(i, min(i + batch_size, max_index))
            i += len(rows)
        samples = np.zeros((len(rows), lookback // step, data.shape[-1]))
        targets = np.zeros((len(rows),))
        for j, _ in enumerate(rows):
            indices = range(rows[j] - lookback, rows[j], step)
            samples[j] = data[indices]
            targets[j] = data[rows[j] + delay][1]
        yield samples, targets


def reference_inputs(kind: str, cfg, data, steps: int):
    """(fit inputs, fit kwargs, loss, metrics) of the notebook's way for this data."""
    import keras

    batch = cfg.trainer.batch_size
    n = steps * batch
    if kind == "jena":
        from seqexp.data.jena import read_jena, split_rows

        _, values = read_jena(cfg.data.path)
        float_data = values.astype(np.float64)  # DLwP parses the csv into float64
        start, end = split_rows(dict(cfg.data.split), len(float_data))["train"]
        mean, std = float_data[start:end].mean(axis=0), float_data[start:end].std(axis=0)
        float_data = (float_data - mean) / std
        gen = dlwp_generator(
            float_data,
            cfg.data.lookback,
            cfg.data.delay,
            start,
            end - 1,
            shuffle=True,
            batch_size=batch,
            step=cfg.data.step,
        )
        return (gen,), {"steps_per_epoch": steps}, "mae", None
    if kind == "imdb":
        from seqexp.data.imdb import encode, read_npz

        x_train, y_train, _, _ = read_npz(cfg.data.path)
        x = encode(x_train[:n], num_words=cfg.data.num_words)  # imdb.load_data(num_words)
        x = keras.utils.pad_sequences(x, maxlen=cfg.data.maxlen)
        return (x, y_train[:n]), {"batch_size": batch}, "binary_crossentropy", ["acc"]
    if kind == "fashion":
        from seqexp.data.fashion_mnist import read_idx

        folder = Path(cfg.data.path)
        images = read_idx(folder / fixtures.FASHION_FILES["train_images"], ndim=3)[:n]
        labels = read_idx(folder / fixtures.FASHION_FILES["train_labels"], ndim=1)[:n]
        x = images.reshape(-1, 28, 28, 1) / 255.0  # HG: float64
        return (x, labels), {"batch_size": batch}, "sparse_categorical_crossentropy", ["accuracy"]
    x, y = (t.numpy() for t in first_batches(data.train, steps))  # the padded prefixes
    y = keras.utils.to_categorical(y, num_classes=data.spec.vocab_size)  # WD's one-hot targets
    return (x, y), {"batch_size": batch}, "categorical_crossentropy", ["accuracy"]


def run_reference(kind: str, cfg, data, steps: int, epochs: int, inputs):
    from hydra.utils import instantiate

    determinism(False)
    args, kwargs, loss, metrics = inputs
    model = same_model(cfg, data.spec)
    model.compile(optimizer=instantiate(cfg.optimizer), loss=loss, metrics=metrics)
    timer = epoch_timer()
    model.fit(*args, epochs=epochs, verbose=0, callbacks=[timer], **kwargs)
    return timer


def bench_case(name: str, size: str, folder: Path, reps: int, epochs: int) -> dict:
    from hydra.utils import instantiate

    overrides, kind, full_steps = CASES[name]
    steps = full_steps if size == "full" else 2
    common = [
        *overrides,
        *data_overrides(kind, size, folder),
        f"trainer.epochs={epochs}",
        f"trainer.steps_per_epoch={steps}",
        "trainer.validation_steps=2",
        "trainer.test_steps=2",
        "trainer.verbose=0",
        "callbacks.early_stopping.enabled=false",
    ]
    runs = folder / "runs" / name
    shutil.rmtree(runs, ignore_errors=True)  # train() refuses to overwrite a finished run
    cfg = compose(runs / "floor", common)
    data = instantiate(cfg.data)
    reference = reference_inputs(kind, cfg, data, steps)
    # "floor again": the floor run twice per repetition, the A/A pair that shows this machine's noise
    ways = ["seqexp", "floor", "reference", "floor again"]
    per_step = {way: [] for way in ways}  # wall ms per step, every timed epoch
    per_rep = {way: [] for way in ways}  # median of each run's timed epochs
    steps_run = {}  # way -> training steps of each epoch (the first repetition)
    args, kwargs, _, _ = reference
    floor_batch = int(first_batches(data.train, 1)[0].shape[0])
    batch_sizes = {  # the batch each way trains on
        "seqexp": cfg.trainer.batch_size,
        "floor": floor_batch,
        "floor again": floor_batch,
        "reference": len(next(args[0])[0]) if kind == "jena" else kwargs["batch_size"],  # a generator's
    }
    cpu_rep = {way: [] for way in ways}  # CPU ms per step (all threads), median of each run
    for rep in range(reps):
        for way in ways[rep % len(ways) :] + ways[: rep % len(ways)]:  # rotate the order
            started = time.perf_counter()
            if way == "seqexp":
                timer = run_seqexp(compose(runs / f"seqexp_{rep}", common))
            elif way in ("floor", "floor again"):
                timer = run_floor(cfg, data, steps, epochs)
            else:
                timer = run_reference(kind, cfg, data, steps, epochs, reference)
            timed = [s / steps * 1000 for s in timer.seconds[1:]]  # warm-up epoch dropped
            per_step[way] += timed
            steps_run.setdefault(way, timer.steps)
            per_rep[way].append(float(np.median(timed)))
            cpu_rep[way].append(float(np.median([s / steps * 1000 for s in timer.cpu_seconds[1:]])))
            log.info(
                "%s %s rep %d: %s ms/step, CPU %.1f ms/step (run %.1f s)",
                name,
                way,
                rep,
                [round(t, 2) for t in timed],
                cpu_rep[way][-1],
                time.perf_counter() - started,
            )
    return {
        "batch_size": cfg.trainer.batch_size,
        "steps_per_epoch": steps,
        "epochs": epochs,
        "timed_epochs_per_run": epochs - 1,
        "repetitions": reps,
        "reference_way": REFERENCE_WAY[kind],
        "steps_run": steps_run,
        "batch_sizes_run": batch_sizes,
        "ms_per_step": {way: summary(v) for way, v in per_step.items()},
        "ms_per_step_per_rep": per_rep,
        "cpu_ms_per_step": {way: summary(v) for way, v in cpu_rep.items()},
        "ratios": {
            "seqexp/floor": ratio(per_rep["seqexp"], per_rep["floor"]),
            "seqexp/reference": ratio(per_rep["seqexp"], per_rep["reference"]),
            "A/A floor/floor again": ratio(per_rep["floor"], per_rep["floor again"]),
        },
        "cpu_ratios": {
            "seqexp/floor": ratio(cpu_rep["seqexp"], cpu_rep["floor"]),
            "seqexp/reference": ratio(cpu_rep["seqexp"], cpu_rep["reference"]),
        },
    }


def run(size: str, folder: Path, cases=None) -> dict:
    reps, epochs = (4, 3) if size == "full" else (1, 2)
    return {name: bench_case(name, size, folder, reps, epochs) for name in (cases or CASES)}
