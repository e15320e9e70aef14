"""Sweep throughput: the same two-epoch jobs run three ways, wall time of the whole command:
Hydra's basic launcher (one job after the other, in one process), joblib (2 worker processes)
and `seqexp search` (Optuna, 2 local workers, no pruning), in jobs per minute.

How much of each job is start-up and other work outside training: (wall time x workers - the
jobs' own wall_time_s from metrics.json) / jobs, i.e. what a job costs beyond train()'s clock.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from benchmarks.stats import ratio, run_measured, seqexp_command, summary

LAUNCHERS = ("basic", "joblib", "search")
WORKERS = {"basic": 1, "joblib": 2, "search": 2}


def sweep_args(folder: Path, launcher: str, size: str) -> list[str]:
    jobs, steps = (8, "100") if size == "full" else (2, "2")
    common = [
        "experiment=smoke",
        "model=lstm_dropout",
        "trainer.epochs=2",
        f"trainer.steps_per_epoch={steps}",
        "trainer.validation_steps=10",
        "trainer.test_steps=10",
        "trainer.verbose=0",
        f"hydra.sweep.dir={folder}",
    ]
    if launcher == "search":
        return [
            "search",
            "hparams_search=recurrent_tpe",
            f"hparams_search.n_trials={jobs}",
            "hparams_search.n_jobs=2",
            "hparams_search.pruner=none",
            *common,
        ]
    dropouts = ",".join(f"{0.05 * i:.2f}" for i in range(jobs))
    extra = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"] if launcher == "joblib" else []
    return ["train", "-m", *common, f"model.dropout={dropouts}", *extra]


def job_seconds(folder: Path) -> list[float]:
    """wall_time_s of every finished job (metrics.json) under a sweep or search directory."""
    found = [json.loads(p.read_text()) for p in folder.rglob("metrics.json")]
    return [m["wall_time_s"] for m in found if m.get("status") == "completed"]


def run(size: str, folder: Path) -> dict:
    reps = 2 if size == "full" else 1
    jobs = 8 if size == "full" else 2
    walls = {k: [] for k in LAUNCHERS}
    outside = {k: [] for k in LAUNCHERS}  # per job, s outside train()'s clock
    for rep in range(reps):
        for launcher in LAUNCHERS[rep % 3 :] + LAUNCHERS[: rep % 3]:
            out = folder / "sweeps" / f"{launcher}_{rep}"
            shutil.rmtree(out, ignore_errors=True)
            result = run_measured([*seqexp_command(), *sweep_args(out, launcher, size)])
            done = job_seconds(out)
            if result["returncode"] != 0 or len(done) != jobs:
                raise RuntimeError(f"the {launcher} sweep failed ({len(done)} jobs): {result['stderr']}")
            walls[launcher].append(result["wall_s"])
            outside[launcher].append((result["wall_s"] * WORKERS[launcher] - sum(done)) / jobs)
    return {
        "jobs": jobs,
        "command": "seqexp " + " ".join(sweep_args(Path("<dir>"), "joblib", size)),
        "search_command": "seqexp " + " ".join(sweep_args(Path("<dir>"), "search", size)),
        "repetitions": reps,
        "wall_s": {k: summary(v) for k, v in walls.items()},
        "jobs_per_minute": {k: summary([jobs * 60 / w for w in v]) for k, v in walls.items()},
        "outside_train_s_per_job": {k: summary(v) for k, v in outside.items()},
        "ratios": {
            "joblib/basic": ratio(walls["joblib"], walls["basic"]),
            "search/basic": ratio(walls["search"], walls["basic"]),
        },
    }
