"""trainer.mixed_precision and trainer.jit_compile: each trains a tiny Jena run to a finite loss,
with the precision and compilation it asks for, and neither leaks into the next run."""

from __future__ import annotations

import json
import math

import keras
import pytest

from seqexp.run.train import train
from tests.conftest import TINY_JENA


def finite_run(run_dir) -> dict:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed"
    assert all(math.isfinite(v) for v in metrics["best"].values()), metrics["best"]
    assert all(math.isfinite(v) for v in metrics["test"].values()), metrics["test"]
    return metrics


@pytest.fixture(autouse=True)
def float32_after():
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_mixed_precision_trains_in_float16_with_a_float32_head(make_cfg, jena_csv, tmp_path):
    best = train(make_cfg("model=lstm", f"data.path={jena_csv}", *TINY_JENA, "trainer.mixed_precision=true"))
    assert math.isfinite(best)
    finite_run(tmp_path / "run")
    assert keras.mixed_precision.global_policy().name == "mixed_float16"
    model = keras.models.load_model(tmp_path / "run" / "checkpoints" / "best.keras")
    lstm = next(layer for layer in model.layers if isinstance(layer, keras.layers.LSTM))
    assert lstm.compute_dtype == "float16" and lstm.variable_dtype == "float32"
    head = model.get_layer("head")
    assert head.compute_dtype == "float32" and model.output.dtype == "float32"

    # The next run in this process, without the option, is float32 again.
    train(make_cfg("model=lstm", f"data.path={jena_csv}", *TINY_JENA, run_dir=tmp_path / "next"))
    assert keras.mixed_precision.global_policy().name == "float32"
    finite_run(tmp_path / "next")


@pytest.mark.parametrize("model", ["conv1d", "gru"])
@pytest.mark.parametrize("jit", [True, False])
def test_jit_compile_option_reaches_compile_and_trains(make_cfg, jena_csv, tmp_path, monkeypatch, model, jit):
    """What Keras will actually do when fit starts: XLA on or off, as asked (Keras switches XLA
    off while TF's op determinism is on, so jit_compile=true must turn determinism off)."""
    seen = {}
    fit = keras.Model.fit

    def spy(self, *args, **kwargs):
        seen["jit_compile"] = self.jit_compile
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    best = train(
        make_cfg(
            f"model={model}", f"data.path={jena_csv}", *TINY_JENA, f"trainer.jit_compile={str(jit).lower()}"
        )
    )
    assert seen["jit_compile"] is jit
    assert math.isfinite(best)
    finite_run(tmp_path / "run")


@pytest.mark.parametrize(("steps", "per_call"), [(6, 6), (30, 15), (17, 1)])
def test_steps_per_execution_divides_the_epoch(steps, per_call):
    from seqexp.run.build import steps_per_execution

    assert steps_per_execution(steps) == per_call


def test_fast_switch_compiles_with_xla_several_steps_per_call_and_keeps_the_epochs(
    make_cfg, jena_csv, tmp_path, monkeypatch
):
    """trainer.fast=true: XLA on, several batches per call, and still exactly steps_per_epoch
    batches an epoch (Keras runs whole calls on seqexp's endless stream)."""
    seen = {}
    fit = keras.Model.fit

    def spy(self, *args, **kwargs):
        result = fit(self, *args, **kwargs)
        seen.update(
            jit=self.jit_compile,
            per_call=self.steps_per_execution,
            iterations=int(self.optimizer.iterations),
            epochs=kwargs["epochs"],
        )
        return result

    monkeypatch.setattr(keras.Model, "fit", spy)
    cfg = make_cfg(
        "model=gru",
        f"data.path={jena_csv}",
        *TINY_JENA,
        "trainer.fast=true",
        "trainer.steps_per_epoch=6",
        "trainer.epochs=2",
        "callbacks.early_stopping.enabled=false",
    )
    assert math.isfinite(train(cfg))
    assert seen == {"jit": True, "per_call": 6, "iterations": 12, "epochs": 2}
    metrics = finite_run(tmp_path / "run")
    assert metrics["epochs_run"] == 2
    env = json.loads((tmp_path / "run" / "env.json").read_text())
    assert env["fast"] is True and env["xla"] is True and env["deterministic_ops"] is False


def test_fast_switch_leaves_xla_off_on_a_convolution_and_keeps_the_history_exact(
    make_cfg, jena_csv, tmp_path, monkeypatch
):
    """XLA ran convolutions slower on CPU: trainer.fast on conv1d is several steps per call with
    TF's deterministic ops, so it gives the default's history, number for number."""
    seen = {}
    fit = keras.Model.fit

    def spy(self, *args, **kwargs):
        seen.update(jit=self.jit_compile, per_call=self.steps_per_execution)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    histories = []
    for fast in ("false", "true"):
        run = tmp_path / f"fast_{fast}"
        cfg = make_cfg(
            "model=conv1d",
            f"data.path={jena_csv}",
            *TINY_JENA,
            f"trainer.fast={fast}",
            "trainer.steps_per_epoch=4",
            "trainer.epochs=2",
            "callbacks.early_stopping.enabled=false",
            run_dir=run,
        )
        assert math.isfinite(train(cfg))
        histories.append((run / "history.csv").read_text())
        env = json.loads((run / "env.json").read_text())
        assert env["xla"] is False and env["deterministic_ops"] is True
    assert seen == {"jit": False, "per_call": 4}  # the fast run's
    assert histories[0] == histories[1]
