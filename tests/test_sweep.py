"""Sweep summary: the callback at the end of a real `seqexp train -m`, failed jobs, and
`seqexp summarize` on hand-made run directories (the latter without TensorFlow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from seqexp.cli import main
from seqexp.errors import SeqexpError
from seqexp.run.record import record_failure
from seqexp.summary.sweep import NO_METRICS, summarize
from tests.conftest import BOX
from tests.test_sweep_helpers import (
    assert_complete,
    assert_png,
    assert_rows_match_metrics,
    run_dirs,
    summary_rows,
    sweep,
)


@pytest.mark.slow
def test_grid_sweep_writes_summary_matching_each_job(tmp_path):
    sweep_dir = tmp_path / "grid"
    result = sweep(sweep_dir, "model.units=[8],[16]", "optimizer.learning_rate=1e-3,3e-4")
    assert result.returncode == 0, result.stderr[-3000:]

    runs = run_dirs(sweep_dir)
    assert [r.name for r in runs] == [f"{i}_jena_gru" for i in range(4)]
    for run in runs:
        assert_complete(run)
    rows = summary_rows(sweep_dir)
    assert sorted(r["job"] for r in rows) == [r.name for r in runs]
    assert_rows_match_metrics(sweep_dir, rows)
    # only the swept parameters label a job, each of the 4 combinations once
    combos = {(r["model.units"], r["optimizer.learning_rate"]) for r in rows}
    assert combos == {(u, lr) for u in ("[8]", "[16]") for lr in ("0.001", "0.0003")}
    best = [float(r["best"]) for r in rows]
    assert best == sorted(best)  # val_loss is minimised: best first
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4"]
    assert_png(sweep_dir / "comparison.png")
    md = (sweep_dir / "summary.md").read_text()
    assert "4 jobs: 4 completed." in md
    assert f"**Best:** `{rows[0]['job']}` ({rows[0]['overrides']})" in md
    assert all(f"`{r.name}`" in md for r in runs)
    # the table is printed when the sweep ends: plain text into a pipe (no Markdown, no box)
    printed = [line.split() for line in result.stdout.splitlines()]
    assert all([r["rank"], r["job"]] in [line[:2] for line in printed] for r in rows)
    assert "4 jobs: 4 completed." in result.stdout and "|---|" not in result.stdout
    assert not BOX.search(result.stdout)

    # An interrupted sweep: one job never wrote metrics.json. `seqexp summarize` rebuilds the
    # summary from the directories alone, and does so without importing TensorFlow.
    for name in ("summary.csv", "summary.md", "comparison.png"):
        (sweep_dir / name).unlink()
    (runs[3] / "metrics.json").unlink()
    code = (
        "import sys; from seqexp.cli import main; rc = main(['summarize', sys.argv[1]]); "
        "assert 'tensorflow' not in sys.modules, 'imported TF'; sys.exit(rc)"
    )
    rebuilt = subprocess.run(
        [sys.executable, "-c", code, str(sweep_dir)], capture_output=True, text=True, timeout=600
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "summary.md" in rebuilt.stdout and not BOX.search(rebuilt.stdout)
    assert "4 jobs: 3 completed, 1 unknown." in rebuilt.stdout
    rows = summary_rows(sweep_dir)
    assert len(rows) == 4
    assert_rows_match_metrics(sweep_dir, [r for r in rows if r["job"] != runs[3].name])
    missing = next(r for r in rows if r["job"] == runs[3].name)
    assert (missing["status"], missing["reason"], missing["rank"]) == ("unknown", NO_METRICS, "")
    assert rows[-1]["job"] == runs[3].name
    assert_png(sweep_dir / "comparison.png")


@pytest.mark.slow
def test_failed_job_does_not_stop_the_sweep(tmp_path):
    sweep_dir = tmp_path / "failing"
    result = sweep(sweep_dir, "model.units=[8],[-3],[16]")
    # every job ran; the sweep reports the failure and exits 1 after writing the summary
    assert result.returncode == 1, result.stderr[-3000:]
    assert (
        "1 of 3 jobs failed: 1_jena_gru (failed: model.units=[-3] must be a non-empty list of integers"
        in result.stderr
    )
    runs = run_dirs(sweep_dir)
    assert [r.name for r in runs] == ["0_jena_gru", "1_jena_gru", "2_jena_gru"]
    assert_complete(runs[0])
    assert_complete(runs[2])
    failed = json.loads((runs[1] / "metrics.json").read_text())
    assert failed["status"] == "failed" and "units" in failed["reason"] and "-3" in failed["reason"]

    rows = summary_rows(sweep_dir)
    assert_rows_match_metrics(sweep_dir, rows)
    assert [r["job"] for r in rows][-1] == "1_jena_gru"  # failed jobs last, unranked
    assert rows[-1]["status"] == "failed" and rows[-1]["reason"] == failed["reason"]
    md = (sweep_dir / "summary.md").read_text()
    assert "3 jobs: 2 completed, 1 failed." in md
    assert f"- `1_jena_gru` (model.units=[-3]): failed: {failed['reason']}" in md
    assert_png(sweep_dir / "comparison.png")


# ---- summarize on hand-made run directories (no TensorFlow, milliseconds) -------------------


def make_run(
    root: Path,
    name: str,
    overrides: list[str],
    metrics: dict | None,
    monitor="val_accuracy",
    mode="auto",
    history: str | None = None,
) -> Path:
    run = root / name
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    (run / ".hydra" / "config.yaml").write_text(f"trainer:\n  monitor: {monitor}\n  mode: {mode}\n")
    if metrics is not None:
        (run / "metrics.json").write_text(json.dumps({"monitor": monitor, **metrics}))
    if history:
        (run / "history.csv").write_text(history)
    return run


def done(best: float, test: float, epoch=2) -> dict:
    return {
        "status": "completed",
        "reason": None,
        "best_epoch": epoch,
        "epochs_run": 3,
        "best": {"val_accuracy": best, "val_loss": 1 - best},
        "test": {"accuracy": test, "loss": 1 - test},
        "wall_time_s": 1.5,
    }


HISTORY = "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,0.7,0.55,0.69\n1,0.6,0.6,0.62,0.66\n"


def test_summarize_ranks_accuracy_descending_and_lists_failures(tmp_path):
    make_run(tmp_path, "0_imdb_dense", ["data=imdb", "model.units=8"], done(0.81, 0.80), history=HISTORY)
    make_run(tmp_path, "1_imdb_dense", ["data=imdb", "model.units=16"], done(0.86, 0.84), history=HISTORY)
    make_run(
        tmp_path,
        "2_imdb_dense",
        ["data=imdb", "model.units=32"],
        {"status": "failed", "reason": "trainer.monitor=val_x is not logged by this run"},
    )
    make_run(tmp_path, "3_imdb_dense", ["data=imdb", "model.units=64"], None)

    summary = summarize(tmp_path)

    assert [j.name for j in summary.jobs] == [
        "1_imdb_dense",
        "0_imdb_dense",
        "2_imdb_dense",
        "3_imdb_dense",
    ]  # accuracy is maximised
    assert summary.swept_keys == ["model.units"]
    assert [j.label for j in summary.jobs][:2] == ["model.units=16", "model.units=8"]
    assert [j.name for j in summary.failed] == ["2_imdb_dense", "3_imdb_dense"]
    md = (tmp_path / "summary.md").read_text()
    assert "4 jobs: 2 completed, 1 failed, 1 unknown." in md
    assert "val_accuracy = 0.86 at epoch 2, test accuracy = 0.84" in md
    assert (
        "- `2_imdb_dense` (model.units=32): failed: trainer.monitor=val_x is not logged by this run"
    ) in md
    assert f"- `3_imdb_dense` (model.units=64): unknown: {NO_METRICS}" in md
    assert_png(tmp_path / "comparison.png")


def test_summarize_reports_the_best_optuna_trial(tmp_path):
    make_run(tmp_path, "0_jena_gru", ["model.dropout=0.123456789"], done(0.7, 0.6), monitor="val_accuracy")
    make_run(tmp_path, "1_jena_gru", ["model.dropout=0.3"], done(0.9, 0.8), monitor="val_accuracy")
    (tmp_path / "optimization_results.yaml").write_text(
        "name: optuna\nbest_params:\n  model.dropout: 0.3\nbest_value: 0.9\n"
    )
    summary = summarize(tmp_path, out_dir=tmp_path / "out")
    md = (tmp_path / "out" / "summary.md").read_text()
    assert "**Best Optuna trial:** model.dropout=0.3 (value 0.9, run `1_jena_gru`)." in md
    assert summary.jobs[1].label == "model.dropout=0.1235"  # labels shortened, CSV keeps all
    assert "0.123456789" in (tmp_path / "out" / "summary.csv").read_text()


def test_summarize_refuses_a_folder_without_runs(tmp_path, capsys):
    with pytest.raises(SeqexpError, match="No run directories under"):
        summarize(tmp_path)
    assert main(["summarize", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "seqexp: error:" in err and "nope is not a directory" in err


def test_record_failure_keeps_a_reason_train_already_wrote(tmp_path):
    record_failure(tmp_path / "a", SeqexpError("trainer.monitor=x is not logged"))
    assert json.loads((tmp_path / "a" / "metrics.json").read_text()) == {
        "status": "failed",
        "reason": "trainer.monitor=x is not logged",
        "resumable": True,  # a failure outside training: `seqexp resume` may continue it
    }
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "metrics.json").write_text(
        json.dumps({"status": "failed", "reason": "ValueError: during fit", "epochs_run": 1})
    )
    record_failure(tmp_path / "b", RuntimeError("re-raised"))
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["reason"] == "ValueError: during fit"
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "metrics.json").write_text(json.dumps({"status": "completed", "best": {}}))
    # a job pointed at a finished run is refused (seqexp.run.rundir.refuse_finished): the earlier
    # result must survive the failure record
    record_failure(tmp_path / "c", SeqexpError("already holds a run that ended with status 'completed'"))
    assert json.loads((tmp_path / "c" / "metrics.json").read_text()) == {"status": "completed", "best": {}}


def test_runs_rank_by_the_training_rule_for_mode():
    from seqexp.run.monitor import best_mode
    from seqexp.summary.sweep import Job

    assert [best_mode(m) for m in ("val_loss", "val_mae", "val_accuracy", "auc", "val_precision")] == [
        "min",
        "min",
        "max",
        "max",
        "max",
    ]
    assert best_mode("val_accuracy", "min") == "min" and best_mode("val_loss", "max") == "max"
    job = Job(Path("."), "x", [], {"monitor": "val_accuracy"}, {"trainer": {"mode": "auto"}})
    assert job.mode == "max"
