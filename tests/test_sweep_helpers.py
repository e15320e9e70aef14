"""Shared by the sweep, launcher and distribute tests: run `seqexp train -m` in a subprocess and
check that a sweep's run directories and summary agree with each job's own files."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEQEXP = Path(sys.executable).with_name("seqexp")

# The fast smoke run: bundled sample, 1 epoch of 2 steps, no progress bars, no TensorBoard.
FAST = [
    "experiment=smoke",
    "trainer.epochs=1",
    "trainer.steps_per_epoch=2",
    "trainer.validation_steps=2",
    "trainer.test_steps=2",
    "trainer.verbose=0",
    "callbacks.tensorboard.enabled=false",
]

RUN_FILES = [
    ".hydra/config.yaml",
    ".hydra/overrides.yaml",
    "train.log",
    "model_summary.txt",
    "history.csv",
    "metrics.json",
    "env.json",
    "checkpoints/best.keras",
    "loss.png",
]


def seqexp(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "RAY_USAGE_STATS_ENABLED": "0"}
    return subprocess.run(
        [str(SEQEXP), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def sweep(sweep_dir: Path, *overrides: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """`seqexp train -m <fast smoke settings> <overrides>` writing into sweep_dir."""
    return seqexp(
        "train",
        "-m",
        *FAST,
        *overrides,
        f"hydra.sweep.dir={sweep_dir}",
        cwd=sweep_dir.parent,
        timeout=timeout,
    )


def run_dirs(sweep_dir: Path) -> list[Path]:
    return sorted(p.parent for p in sweep_dir.glob("*/.hydra"))


def assert_complete(run_dir: Path) -> dict:
    """Every file of the run-directory contract is there; returns metrics.json."""
    missing = [name for name in RUN_FILES if not (run_dir / name).exists()]
    assert not missing, f"{run_dir.name} lacks {missing}"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed", metrics
    return metrics


def summary_rows(sweep_dir: Path) -> list[dict]:
    with (sweep_dir / "summary.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def assert_rows_match_metrics(sweep_dir: Path, rows: list[dict]) -> None:
    """Each summary row carries exactly its job's metrics.json values and its own overrides."""
    for row in rows:
        run_dir = sweep_dir / row["job"]
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert row["status"] == metrics["status"]
        if metrics["status"] != "completed":
            continue
        monitor = metrics["monitor"]
        assert row["monitor"] == monitor
        assert math.isclose(float(row["best"]), metrics["best"][monitor], rel_tol=1e-12)
        test_key = monitor.removeprefix("val_")
        assert math.isclose(float(row["test"]), metrics["test"][test_key], rel_tol=1e-12)
        assert int(row["best_epoch"]) == metrics["best_epoch"]
        assert int(row["epochs_run"]) == metrics["epochs_run"]
        assert math.isclose(float(row["wall_time_s"]), metrics["wall_time_s"], rel_tol=1e-12)
        for key, value in metrics["test"].items():
            assert math.isclose(float(row[f"test.{key}"]), value, rel_tol=1e-12)
        overrides = (run_dir / ".hydra" / "overrides.yaml").read_text()
        for part in row["overrides"].split():
            key, value = part.split("=", 1)
            assert f"{key}={row[key]}" in overrides  # swept column = this job's own override


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, path
