"""One whole run in its own process, timed from the inside (benchmarks/whole.py starts it).

    python -m benchmarks.child REPORT.json T0 seqexp train <overrides>...   # (a) as a user runs it
    python -m benchmarks.child REPORT.json T0 script CASE.json              # (b) hand-written Keras
    python -m benchmarks.child REPORT.json T0 reference CASE.json           # (c) the notebooks' way

T0 is the parent's time.time() just before it started this process. REPORT.json gets
`first_step_s` (T0 to the end of the first training step), `epoch_s`: each whole epoch,
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


def whole_epoch_timer(t0: float, report: Path):
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
            report.write_text(
                json.dumps({"first_step_s": self.first_step_s, "epoch_s": epochs, "val_s": self.validations})
            )

    return WholeEpochTimer()


def run_seqexp(t0: float, report: Path, argv: list[str]) -> int:
    """`seqexp <argv>` in this process, with the timer added after seqexp's own callbacks."""
    import seqexp.run.callbacks as callbacks
    from seqexp.cli import main

    original = callbacks.configured_callbacks

    def with_timer(cfg, monitor):
        return [*original(cfg, monitor), whole_epoch_timer(t0, report)]

    callbacks.configured_callbacks = with_timer
    return main(argv)


def numpy_batches(dataset, steps: int):
    """The first `steps` batches as NumPy (None for a split the data has not: headlines)."""
    from benchmarks.training import first_batches

    if dataset is None:
        return None
    x, y = first_batches(dataset, steps)
    return x.numpy(), y.numpy()


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
    timer = whole_epoch_timer(t0, report)
    if way == "script":  # what a user writes: NumPy in memory, the two callbacks everyone adds
        _, loss, metrics = TASK_HEADS[data.spec.task]
        model.compile(
            optimizer=instantiate(cfg.optimizer), loss=trainer.loss or loss, metrics=resolve(metrics)
        )
        run_dir.mkdir(parents=True, exist_ok=True)
        callbacks = [
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
    model.fit(*args, epochs=epochs, validation_data=val, callbacks=[timer], verbose=0, **kwargs)
    if case["kind"] == "jena":
        model.evaluate(test, steps=trainer.test_steps, verbose=0)
    elif test is not None:
        model.evaluate(*test, batch_size=batch, verbose=0)
    return 0


def main(argv: list[str]) -> int:
    report, t0, way, *rest = argv
    if way == "seqexp":
        return run_seqexp(float(t0), Path(report), rest)
    from benchmarks.training import determinism

    determinism(False)  # hand-written Keras leaves TensorFlow's op determinism off
    return run_keras(float(t0), Path(report), way, json.loads(Path(rest[0]).read_text()))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
