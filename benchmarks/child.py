"""One whole run in its own process, timed from the inside (benchmarks/whole.py starts it).

    python -m benchmarks.child REPORT.json T0 seqexp train <overrides>...   # (a) as a user runs it
    python -m benchmarks.child REPORT.json T0 script CASE.json              # (b) hand-written Keras
    python -m benchmarks.child REPORT.json T0 reference CASE.json           # (c) the notebooks' way

Keras runs the backend KERAS_BACKEND names (TensorFlow when unset; seqexp.backend.choose, as
`seqexp train` does, before Keras loads); (a) gets the same as `trainer.backend=...`. On JAX
nothing here imports TensorFlow. T0 is the parent's time.time() just before it started this
process. REPORT.json gets `backend` and `device` (what Keras' backend found: jax.devices() or
TensorFlow's GPUs, never assumed), `first_step_s` (T0 to the end of the first training step),
`train_s`: each epoch's training steps (on_epoch_begin to the start of validation or the end of
the epoch, whichever comes first, by a timer ahead of every other callback that waits for the
last step's result), `steps`: the training steps each epoch ran, `epoch_s`: each whole epoch,
from one `on_epoch_begin` to the next (the last one to `on_train_end`), so training, validation
and every epoch-end callback are inside it, and `val_s`: each epoch's validation pass (fit's
`on_test_begin` to `on_test_end`). The whole run (process start to exit) is timed by
the parent. The timer adds next to nothing per step: it reads the loss of the first batch only
(on TensorFlow Keras hands every batch's logs to the callbacks synchronously whatever they are;
`async_safe` keeps it out of the way on a backend that does not).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def device() -> str:
    """The accelerator Keras' backend runs on, as the backend reports it (never assumed)."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        devices = jax.devices()
        kind, platform = devices[0].device_kind, devices[0].platform
        return f"{platform}{'' if kind.lower() == platform else ': ' + kind} x{len(devices)}"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "cpu"
    details = tf.config.experimental.get_device_details(gpus[0])
    return f"gpu: {details.get('device_name', gpus[0].name)} x{len(gpus)}"


def training_timer():
    """Each epoch's training steps: from on_epoch_begin to validation's start (or the epoch's
    end); first in the callback list, so no other callback's epoch-end work is inside it. It
    reads the optimizer's step counter when it stops, which waits for the last step's result
    (JAX dispatches steps asynchronously) and says how many steps the epoch ran."""
    import keras

    class TrainingTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []
            self.steps: list[int] = []
            self._start = None

        def on_epoch_begin(self, epoch, logs=None):
            self._iterations = int(self.model.optimizer.iterations)
            self._start = time.perf_counter()

        def on_test_begin(self, logs=None):
            self._stop()

        def on_epoch_end(self, epoch, logs=None):
            self._stop()

        def _stop(self):
            if self._start is not None:
                iterations = int(self.model.optimizer.iterations)
                self.seconds.append(time.perf_counter() - self._start)
                self.steps.append(iterations - self._iterations)
                self._start = None

    return TrainingTimer()


def whole_epoch_timer(t0: float, report: Path, training=None):
    import keras

    class WholeEpochTimer(keras.callbacks.Callback):
        async_safe = True

        def __init__(self):
            super().__init__()
            self.begins: list[float] = []
            self.validations: list[float] = []
            self.first_step_s = None
            self.training = False

        def on_train_begin(self, logs=None):
            self.training = True  # fit's validation passes, not a later evaluate's

        def on_test_begin(self, logs=None):
            self.test_begin = time.perf_counter()

        def on_test_end(self, logs=None):
            if self.training:
                self.validations.append(time.perf_counter() - self.test_begin)

        def on_epoch_begin(self, epoch, logs=None):
            self.begins.append(time.perf_counter())

        def on_train_batch_end(self, batch, logs=None):
            if self.first_step_s is None:
                float((logs or {}).get("loss", 0.0))  # waits for the step's result
                self.first_step_s = time.time() - t0

        def on_train_end(self, logs=None):
            stamps = [*self.begins, time.perf_counter()]
            epochs = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
            self.training = False
            facts = {"backend": keras.backend.backend(), "device": device()}
            if training is not None:
                facts.update(train_s=training.seconds, steps=training.steps)
            report.write_text(
                json.dumps(
                    {"first_step_s": self.first_step_s, "epoch_s": epochs, "val_s": self.validations, **facts}
                )
            )

    return WholeEpochTimer()


def run_seqexp(t0: float, report: Path, argv: list[str]) -> int:
    """`seqexp <argv>` in this process, with the timer added after seqexp's own callbacks."""
    import seqexp.run.callbacks as callbacks
    from seqexp.cli import main

    original = callbacks.configured_callbacks

    def with_timer(cfg, monitor):
        training = training_timer()
        return [training, *original(cfg, monitor), whole_epoch_timer(t0, report, training)]

    callbacks.configured_callbacks = with_timer
    return main(argv)


def numpy_batches(dataset, steps: int):
    """The first `steps` batches as NumPy (None for a split the data has not: headlines), from
    tf.data on TensorFlow or seqexp's NumPy batches on another backend."""
    import numpy as np

    if dataset is None:
        return None
    xs, ys = zip(*dataset.take(steps), strict=True)
    return np.concatenate([np.asarray(x) for x in xs]), np.concatenate([np.asarray(y) for y in ys])


def run_keras(t0: float, report: Path, way: str, case: dict) -> int:
    """(b) or (c): the model seqexp builds (same builder, same seed), data in memory, plain fit."""
    import keras
    from hydra.utils import instantiate

    from benchmarks.training import compose, dlwp_generator, reference_inputs, same_model
    from seqexp.models.heads import TASK_HEADS
    from seqexp.models.metrics import resolve

    run_dir = Path(case["run_dir"])
    cfg = compose(run_dir, case["overrides"])
    trainer = cfg.trainer
    data = instantiate(cfg.data)
    batch, steps, epochs = trainer.batch_size, trainer.steps_per_epoch, trainer.epochs
    val = numpy_batches(data.val, trainer.validation_steps)
    test = numpy_batches(data.test, trainer.test_steps)
    model = same_model(cfg, data.spec)
    training = training_timer()
    timer = whole_epoch_timer(t0, report, training)
    if way == "script":  # what a user writes: NumPy in memory, the two callbacks everyone adds
        _, loss, metrics = TASK_HEADS[data.spec.task]
        model.compile(
            optimizer=instantiate(cfg.optimizer), loss=trainer.loss or loss, metrics=resolve(metrics)
        )
        run_dir.mkdir(parents=True, exist_ok=True)
        callbacks = [
            training,
            keras.callbacks.ModelCheckpoint(str(run_dir / "best.keras"), save_best_only=True),
            keras.callbacks.EarlyStopping(  # the patience (a) has: never stops inside the run
                patience=cfg.callbacks.early_stopping.patience, restore_best_weights=True
            ),
            timer,
        ]
        x, y = numpy_batches(data.train, steps)
        model.fit(x, y, batch_size=batch, epochs=epochs, validation_data=val, callbacks=callbacks, verbose=0)
        if test is not None:
            model.evaluate(*test, batch_size=batch, verbose=0)
        return 0
    args, kwargs, loss, metrics = reference_inputs(case["kind"], cfg, data, steps)
    if case["kind"] == "jena":  # DLwP 6.3 validates on a generator over the validation rows too
        from seqexp.data.jena import read_jena, split_rows

        _, values = read_jena(cfg.data.path)
        rows = split_rows(dict(cfg.data.split), len(values))
        start, end = rows["train"]
        mean, std = values[start:end].mean(axis=0), values[start:end].std(axis=0)
        scaled = (values.astype("float64") - mean) / std
        low, high = rows["val"]
        d = cfg.data
        val = dlwp_generator(scaled, d.lookback, d.delay, low, high - 1, batch_size=batch, step=d.step)
        kwargs = {**kwargs, "validation_steps": trainer.validation_steps}
        low, high = rows["test"]
        test = dlwp_generator(
            scaled, d.lookback, d.delay, low, high - d.delay - 1, batch_size=batch, step=d.step
        )
    elif loss == "categorical_crossentropy":  # WD's one-hot targets
        n = data.spec.vocab_size
        val, test = (None if s is None else (s[0], keras.utils.to_categorical(s[1], n)) for s in (val, test))
    model.compile(optimizer=instantiate(cfg.optimizer), loss=loss, metrics=metrics)
    model.fit(*args, epochs=epochs, validation_data=val, callbacks=[training, timer], verbose=0, **kwargs)
    if case["kind"] == "jena":
        model.evaluate(test, steps=trainer.test_steps, verbose=0)
    elif test is not None:
        model.evaluate(*test, batch_size=batch, verbose=0)
    return 0


def main(argv: list[str]) -> int:
    from seqexp import backend

    report, t0, way, *rest = argv
    backend.choose(os.environ.get("KERAS_BACKEND") or backend.DEFAULT)  # before Keras loads
    if way == "seqexp":
        return run_seqexp(float(t0), Path(report), rest)
    if os.environ["KERAS_BACKEND"] == "tensorflow":
        from benchmarks.training import determinism

        determinism(False)  # hand-written Keras leaves TensorFlow's op determinism off
    return run_keras(float(t0), Path(report), way, json.loads(Path(rest[0]).read_text()))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
