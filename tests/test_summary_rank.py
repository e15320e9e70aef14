"""How the sweep summary ranks jobs (seqexp.summary.sweep.rank): finished jobs by their monitored
best, min or max as the monitor says; failed and unfinished jobs after every finished one,
whatever their numbers (a run that failed at epoch 3 may have logged a lower val_loss)."""

from __future__ import annotations

import json
from pathlib import Path

from seqexp.summary.sweep import summarize


def job(root: Path, name: str, status: str, best: float, monitor: str = "val_loss") -> None:
    run = root / name
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text(f"- model.units={len(name)}\n")
    report = {"status": status, "monitor": monitor, "best": {monitor: best}, "data": "jena", "model": "gru"}
    (run / "metrics.json").write_text(json.dumps(report))


def test_failed_and_unfinished_jobs_rank_after_every_finished_one(tmp_path):
    job(tmp_path, "0_a", "completed", 0.5)
    job(tmp_path, "1_b", "failed", 0.1)
    job(tmp_path, "2_c", "stopped early", 0.3)
    job(tmp_path, "3_d", "interrupted", 0.05)
    job(tmp_path, "4_e", "pruned", 0.4)
    order = [j.name for j in summarize(tmp_path).jobs]
    assert order[:3] == ["2_c", "4_e", "0_a"]  # best val_loss first among finished ones
    assert sorted(order[3:]) == ["1_b", "3_d"]


def test_an_accuracy_monitor_ranks_the_highest_first(tmp_path):
    job(tmp_path, "0_a", "completed", 0.7, monitor="val_accuracy")
    job(tmp_path, "1_b", "completed", 0.9, monitor="val_accuracy")
    job(tmp_path, "2_c", "failed", 0.99, monitor="val_accuracy")
    assert [j.name for j in summarize(tmp_path).jobs] == ["1_b", "0_a", "2_c"]
