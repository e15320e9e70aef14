"""Sweep throughput: the same four-job sweep with Hydra's basic launcher (one job after the
other, in one process) and with joblib (2 worker processes), wall time of the whole command."""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.stats import ratio, run_measured, seqexp_command, summary


def sweep_args(folder: Path, launcher: str, size: str) -> list[str]:
    epochs, steps = ("5", "100") if size == "full" else ("1", "2")
    extra = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"] if launcher == "joblib" else []
    return [
        "train",
        "-m",
        "experiment=smoke",
        "model.dropout=0.0,0.1,0.2,0.3",
        f"trainer.epochs={epochs}",
        f"trainer.steps_per_epoch={steps}",
        "trainer.verbose=0",
        *extra,
        f"hydra.sweep.dir={folder}",
    ]


def run(size: str, folder: Path) -> dict:
    reps = 2 if size == "full" else 1
    walls = {"basic": [], "joblib": []}
    for rep in range(reps):
        for launcher in ["basic", "joblib"] if rep % 2 == 0 else ["joblib", "basic"]:
            out = folder / "sweeps" / f"{launcher}_{rep}"
            shutil.rmtree(out, ignore_errors=True)
            result = run_measured([*seqexp_command(), *sweep_args(out, launcher, size)])
            if result["returncode"] != 0:
                raise RuntimeError(f"the {launcher} sweep failed: {result['stderr']}")
            walls[launcher].append(result["wall_s"])
    return {
        "jobs": 4,
        "command": "seqexp " + " ".join(sweep_args(Path("<dir>"), "joblib", size)),
        "repetitions": reps,
        "wall_s": {k: summary(v) for k, v in walls.items()},
        "ratios": {"joblib/basic": ratio(walls["joblib"], walls["basic"])},
    }
