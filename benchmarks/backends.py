"""seqexp on JAX against the same hand-written Keras script on JAX, and seqexp on JAX against
seqexp on TensorFlow: per model, training steps and whole epochs, each run its own process
(Keras picks its backend once per process; benchmarks/child.py times the inside).

For the issue's seed models (CASES), four ways, interleaved (the order rotates every repetition):
(a) `seqexp train <preset> trainer.backend=jax`, every default callback on;
(b) the hand-written Keras script of benchmarks/whole.py (the same model, builder and seed, the
    same batches in memory as NumPy, `fit` with ModelCheckpoint and EarlyStopping, `evaluate`),
    with KERAS_BACKEND=jax;
(a, TF) `seqexp train <preset> trainer.backend=tensorflow`; left out, and said so, where
    TensorFlow is not installed (a GPU machine with JAX alone);
(b) again: the script a second time, the A/A pair that shows the machine's noise.
Every way runs the same steps, batch, epochs, validation and test batches (checked: the steps
each epoch ran are read from the optimizer). The device is whatever the backend finds
(jax.devices(), TensorFlow's GPUs), recorded per way: the same command runs on a CPU or a GPU.

Clocks: step = an epoch's training steps / steps (on_epoch_begin to validation's start, ahead of
every other callback); whole epoch = training + validation + every epoch-end callback; both
with the first epoch (tracing, XLA compiling) dropped.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.stats import ratio, run_measured, summary
from benchmarks.whole import PROJECT, case_overrides, override_value
from seqexp import backend

log = logging.getLogger(__name__)

# The seed models: name -> (overrides, data kind, steps per epoch at full size). Fewer
# steps than the other parts: the part runs four processes per model and repetition.
CASES = {
    "jena_gru": (["experiment=jena_gru"], "jena", 16),
    "jena_lstm_dropout": (["experiment=jena_gru", "model=lstm_dropout"], "jena", 10),
    "jena_conv1d": (["experiment=jena_conv1d"], "jena", 32),
    "imdb_lstm": (["experiment=imdb_lstm"], "imdb", 8),
    "fashion_cnn": (["experiment=hg_fashion_cnn"], "fashion", 48),
    "headlines_text_lstm": (["experiment=headlines_text_lstm"], "headlines", 48),
}
WAYS = ("seqexp jax", "script jax", "seqexp tensorflow", "script jax again")
TARGET_CPU, TARGET_GPU = 1.05, 1.10  # whole epoch, seqexp on JAX / the script on JAX


def one_run(way: str, kind: str, overrides: list[str], run_dir: Path) -> dict:
    """Start one whole run on the way's backend; what its process measured."""
    backend = "tensorflow" if "tensorflow" in way else "jax"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        if way.startswith("seqexp"):
            args = ["train", *overrides, f"trainer.backend={backend}", f"hydra.run.dir={run_dir}"]
            cmd = [sys.executable, "-m", "benchmarks.child", str(report), "{t0}", "seqexp", *args]
        else:
            case = Path(tmp) / "case.json"
            case.write_text(json.dumps({"overrides": overrides, "run_dir": str(run_dir), "kind": kind}))
            cmd = [sys.executable, "-m", "benchmarks.child", str(report), "{t0}", "script", str(case)]
        t0 = time.time()
        result = run_measured(
            [c.replace("{t0}", repr(t0)) for c in cmd], cwd=PROJECT, env={"KERAS_BACKEND": backend}
        )
        if result["returncode"] != 0 or not report.exists():
            raise RuntimeError(f"{way} failed: {result['stderr']}")
        inside = json.loads(report.read_text())
    if inside["backend"] != backend:
        raise RuntimeError(f"{way} ran on {inside['backend']}, not {backend}")
    return {"run_s": result["wall_s"], **inside}


def bench_case(name: str, size: str, folder: Path, reps: int, epochs: int, ways: tuple) -> dict:
    overrides, kind, _ = CASES[name]
    overrides = case_overrides(name, size, folder, epochs, CASES[name], checks=4)
    steps = int(next(o.split("=", 1)[1] for o in overrides if o.startswith("trainer.steps_per_epoch=")))
    runs = folder / "backends" / name
    shutil.rmtree(runs, ignore_errors=True)
    epoch = {way: [] for way in ways}  # median whole epoch of each run (s)
    step = {way: [] for way in ways}  # median ms per training step of each run
    run = {way: [] for way in ways}
    devices = {}
    for rep in range(reps):
        for way in ways[rep % len(ways) :] + ways[: rep % len(ways)]:
            r = one_run(way, kind, overrides, runs / f"{way.replace(' ', '_')}_{rep}")
            if len(r["epoch_s"]) != epochs or r["steps"] != [steps] * epochs:  # unequal work
                raise RuntimeError(f"{name} {way} ran {r['steps']} steps an epoch, not {epochs} x {steps}")
            epoch[way].append(float(np.median(r["epoch_s"][1:])))  # first epoch (tracing) dropped
            step[way].append(float(np.median(r["train_s"][1:])) / steps * 1000)
            run[way].append(r["run_s"])
            devices.setdefault(way, r["device"])
            log.info(
                "%s %s rep %d on %s: epochs %s s, %.1f ms/step, run %.1f s",
                name,
                way,
                rep,
                r["device"],
                [round(s, 2) for s in r["epoch_s"]],
                step[way][-1],
                r["run_s"],
            )
    ratios = {
        "epoch seqexp/script (jax)": ratio(epoch["seqexp jax"], epoch["script jax"]),
        "step seqexp/script (jax)": ratio(step["seqexp jax"], step["script jax"]),
        "A/A epoch script/script again (jax)": ratio(epoch["script jax"], epoch["script jax again"]),
        "A/A step script/script again (jax)": ratio(step["script jax"], step["script jax again"]),
    }
    if "seqexp tensorflow" in ways:
        ratios["epoch jax/tensorflow (seqexp)"] = ratio(epoch["seqexp jax"], epoch["seqexp tensorflow"])
        ratios["step jax/tensorflow (seqexp)"] = ratio(step["seqexp jax"], step["seqexp tensorflow"])
    return {
        "steps_per_epoch": steps,
        "validation_steps": int(override_value(overrides, "trainer.validation_steps")),
        "epochs": epochs,
        "repetitions": reps,
        "devices": devices,
        "ms_per_step": {way: summary(v) for way, v in step.items()},
        "epoch_s": {way: summary(v) for way, v in epoch.items()},
        "run_s": {way: summary(v) for way, v in run.items()},
        "ratios": ratios,
    }


def run(size: str, folder: Path, cases=None, reps: int | None = None) -> dict:
    reps, epochs = reps or (2 if size == "full" else 1), 3 if size == "full" else 2
    ways = WAYS if backend.installed("tensorflow") else tuple(w for w in WAYS if "tensorflow" not in w)
    if len(ways) < len(WAYS):
        log.info("TensorFlow is not installed: seqexp on JAX and the script on JAX only")
    return {
        "tensorflow_installed": "seqexp tensorflow" in ways,
        "cases": {name: bench_case(name, size, folder, reps, epochs, ways) for name in (cases or CASES)},
    }
