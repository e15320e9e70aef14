"""Whole epochs and whole runs, each run its own process (benchmarks/child.py times the inside).

For each of the five models, five ways, interleaved (the order rotates every repetition):
(a) `seqexp train <preset>` as a user runs it, every default callback on (early stopping too);
(a, fast) the same with `trainer.fast=true`;
(b) the hand-written Keras script a user would write instead: the same model (same builder and
    seed), the same batches already in memory as NumPy, `fit` with ModelCheckpoint
    (save_best_only) and EarlyStopping, then `evaluate` on test;
(c) the reference notebooks' way (benchmarks/training.py: reference_inputs), validation included;
(b) again: the script a second time, the A/A pair that shows the machine's noise.
Every way runs the same steps, batch, epochs, validation and test batches; a run that ran other
epochs (early stopping) stops the benchmark rather than be compared.

Clocks: whole epoch = training + validation + every epoch-end callback (on_epoch_begin to the
next), the first epoch (tracing) dropped; validation = fit's validation pass of an epoch, the
first dropped; whole run = process start to exit; first step =
process start to the end of the first training step.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.stats import ratio, run_measured, summary
from benchmarks.training import CASES, data_overrides

log = logging.getLogger(__name__)

# "script again": (b) run twice per repetition, the A/A pair that shows this machine's noise
WAYS = ("seqexp", "fast", "script", "reference", "script again")
PROJECT = Path(__file__).resolve().parents[1]


def case_overrides(
    name: str, size: str, folder: Path, epochs: int, case: tuple | None = None, checks: int = 10
) -> list[str]:
    """`seqexp train` overrides of one model (`case`: (overrides, data kind, steps per epoch at
    full size), CASES[name] by default); `checks` validation and test batches at full size."""
    overrides, kind, full_steps = case or CASES[name]
    steps, checks = (full_steps, checks) if size == "full" else (2, 2)
    return [
        *overrides,
        *data_overrides(kind, size, folder),
        f"trainer.epochs={epochs}",
        f"trainer.steps_per_epoch={steps}",
        f"trainer.validation_steps={checks}",
        f"trainer.test_steps={checks}",
        "trainer.verbose=0",
        # early stopping stays on but never stops inside the run, in (a) and (b) alike: the HG
        # preset's patience of 2 once stopped (a) after 3 of 4 epochs while (b) ran all 4
        f"callbacks.early_stopping.patience={epochs}",
    ]


def one_run(way: str, name: str, overrides: list[str], run_dir: Path) -> dict:
    """Start one whole run; its wall time, first step and whole-epoch times."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        if way in ("seqexp", "fast"):
            extra = ["trainer.fast=true"] if way == "fast" else []
            args = ["train", *overrides, *extra, f"hydra.run.dir={run_dir}"]
            # seqexp.cli.main(args) in the child: what the `seqexp` console script runs
            cmd = [sys.executable, "-m", "benchmarks.child", str(report), "{t0}", "seqexp", *args]
        else:  # script, script again, reference
            case = Path(tmp) / "case.json"
            case.write_text(
                json.dumps({"overrides": overrides, "run_dir": str(run_dir), "kind": CASES[name][1]})
            )
            kind = way.removesuffix(" again")
            cmd = [sys.executable, "-m", "benchmarks.child", str(report), "{t0}", kind, str(case)]
        t0 = time.time()
        result = run_measured([c.replace("{t0}", repr(t0)) for c in cmd], cwd=PROJECT)
        if result["returncode"] != 0 or not report.exists():
            raise RuntimeError(f"{name} {way} failed: {result['stderr']}")
        inside = json.loads(report.read_text())
    return {"run_s": result["wall_s"], **inside}


def learning_curves(run_dir: Path) -> dict[str, list[float]]:
    """loss (and val_loss where the data has a validation split) by epoch, from history.csv."""
    with open(run_dir / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {m: [float(row[m]) for row in rows] for m in ("loss", "val_loss") if m in rows[0]}


def bench_case(name: str, size: str, folder: Path, reps: int, epochs: int) -> dict:
    overrides = case_overrides(name, size, folder, epochs)
    runs = folder / "whole" / name
    shutil.rmtree(runs, ignore_errors=True)
    epoch = {way: [] for way in WAYS}  # median whole epoch of each run (s)
    run = {way: [] for way in WAYS}
    first = {way: [] for way in WAYS}
    validation = {way: [] for way in WAYS}  # median validation pass of each run (s)
    epochs_seen = {way: [] for way in WAYS}
    for rep in range(reps):
        for way in WAYS[rep % len(WAYS) :] + WAYS[: rep % len(WAYS)]:
            r = one_run(way, name, overrides, runs / f"{way.replace(' ', '_')}_{rep}")
            epoch[way].append(float(np.median(r["epoch_s"][1:])))  # first epoch (tracing) dropped
            run[way].append(r["run_s"])
            if r["val_s"][1:]:  # headlines has no validation split
                validation[way].append(float(np.median(r["val_s"][1:])))
            first[way].append(r["first_step_s"])
            epochs_seen[way].append(len(r["epoch_s"]))
            if len(r["epoch_s"]) != epochs:  # unequal work is no comparison
                raise RuntimeError(f"{name} {way} ran {len(r['epoch_s'])} epochs, not {epochs}")
            log.info(
                "%s %s rep %d: epochs %s s, run %.1f s, first step %.1f s",
                name,
                way,
                rep,
                [round(s, 2) for s in r["epoch_s"]],
                r["run_s"],
                r["first_step_s"],
            )
    curves = {way: learning_curves(runs / f"{way}_0") for way in ("seqexp", "fast")}
    return {
        "steps_per_epoch": int(override_value(overrides, "trainer.steps_per_epoch")),
        "validation_steps": int(override_value(overrides, "trainer.validation_steps")),
        "test_steps": int(override_value(overrides, "trainer.test_steps")),
        "epochs": epochs,
        "epochs_run": epochs_seen,
        "repetitions": reps,
        "epoch_s": {way: summary(v) for way, v in epoch.items()},
        "run_s": {way: summary(v) for way, v in run.items()},
        "first_step_s": {way: summary(v) for way, v in first.items()},
        "validation_s": {way: summary(v) for way, v in validation.items() if v},
        "ratios": {
            **(
                {"validation seqexp/script": ratio(validation["seqexp"], validation["script"])}
                if validation["seqexp"]
                else {}
            ),
            **(
                {
                    "A/A validation script/script again": ratio(
                        validation["script"], validation["script again"]
                    )
                }
                if validation["seqexp"]
                else {}
            ),
            "epoch seqexp/script": ratio(epoch["seqexp"], epoch["script"]),
            "A/A epoch script/script again": ratio(epoch["script"], epoch["script again"]),
            "run seqexp/script": ratio(run["seqexp"], run["script"]),
            "A/A run script/script again": ratio(run["script"], run["script again"]),
            "epoch seqexp/reference": ratio(epoch["seqexp"], epoch["reference"]),
            "epoch fast/script": ratio(epoch["fast"], epoch["script"]),
            "run fast/script": ratio(run["fast"], run["script"]),
        },
        "first_step_minus_script_s": summary(np.subtract(first["seqexp"], first["script"])),
        "learning_curves": curves,  # same seed, repetition 0: what trainer.fast trades
    }


def override_value(overrides: list[str], key: str) -> str:
    """The value `key=...` has in a list of overrides."""
    return next(o.split("=", 1)[1] for o in overrides if o.startswith(f"{key}="))


def run(size: str, folder: Path, cases=None) -> dict:
    # 4 epochs at full size: the median of 3 timed epochs is not moved by one epoch that compiles
    # once (trainer.fast's XLA meets the smaller last batch of a pass in the 2nd or 3rd epoch)
    reps, epochs = (3, 4) if size == "full" else (1, 2)
    return {name: bench_case(name, size, folder, reps, epochs) for name in (cases or CASES)}
