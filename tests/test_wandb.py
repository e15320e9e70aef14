"""logger=wandb: real W&B offline runs (no account, no network), read back from their .wandb
files with wandb's own protobuf records (tests/wandb_reader.py)."""

from __future__ import annotations

import csv
import json

import pytest

from seqexp.errors import SeqexpError
from seqexp.run.identity import flatten, sweep_name
from seqexp.run.record import RunRecord
from seqexp.run.train import train
from tests.conftest import TINY_JENA
from tests.test_sweep_helpers import run_dirs, sweep
from tests.wandb_reader import offline_runs

pytest.importorskip("wandb")  # the [wandb] extra, part of dev


def history_rows(run_dir) -> list[dict]:
    with (run_dir / "history.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def assert_history_matches(run, run_dir) -> None:
    """Each epoch of history.csv is the W&B history step of that epoch (counted from 1)."""
    rows = history_rows(run_dir)
    assert sorted(run.history) == list(range(1, len(rows) + 1))
    for step, row in zip(sorted(run.history), rows, strict=True):
        logged = run.history[step]
        assert set(logged) == set(row) - {"epoch"}, (logged, row)
        for key, value in logged.items():
            assert value == pytest.approx(float(row[key]), rel=1e-5), (step, key)


def test_a_run_is_an_offline_wandb_run_with_config_history_and_summary(make_cfg, jena_csv, tmp_path):
    run_dir = tmp_path / "run"
    cfg = make_cfg(
        "model=dense",
        f"data.path={jena_csv}",
        *TINY_JENA,
        "trainer.epochs=2",
        "logger=wandb",
        "logger.project=jena-tests",
        "tags=[baseline]",
        run_dir=run_dir,
    )
    train(cfg)
    report = json.loads((run_dir / "metrics.json").read_text())
    (run,) = offline_runs(run_dir / "wandb")  # offline, under the run directory by default
    assert run.project == "jena-tests" and run.name == "run" and run.group == ""  # not a sweep
    assert run.tags == ["baseline"]
    assert run.config == {k: v for k, v in flatten(cfg).items() if v != {}}  # MLflow's params
    assert_history_matches(run, run_dir)
    assert run.summary["status"] == "completed" and run.exit_code == 0
    assert run.summary["epochs_run"] == 2 and run.summary["best_epoch"] == report["best_epoch"]
    assert report["test"] and all(
        run.summary[f"test/{k}"] == pytest.approx(v) for k, v in report["test"].items()
    )
    assert all(run.summary[f"best/{k}"] == pytest.approx(v) for k, v in report["best"].items())


def test_a_failed_run_ends_with_its_status_reason_and_a_failing_exit_code(make_cfg, jena_csv, tmp_path):
    cfg = make_cfg(
        "model=dense",
        f"data.path={jena_csv}",
        *TINY_JENA,
        "trainer.loss=mse",
        "optimizer=sgd",
        "optimizer.learning_rate=1e20",
        "logger=wandb",
        f"logger.dir={tmp_path / 'elsewhere'}",
    )
    with pytest.raises(SeqexpError, match="nan loss"):
        train(cfg)
    assert not (tmp_path / "run" / "wandb").exists()  # logger.dir is where it goes
    (run,) = offline_runs(tmp_path / "elsewhere" / "wandb")
    assert run.summary["status"] == "failed" and run.summary["reason"].startswith("nan loss")
    assert run.exit_code == 1


def test_a_resumed_run_continues_its_wandb_run(make_cfg, tmp_path):
    from seqexp.run.wandb_logger import WandbRun

    cfg = make_cfg("logger=wandb")
    (tmp_path / "run").mkdir()
    first = WandbRun(cfg, tmp_path / "run")
    first.start()
    first.epoch(1, {"loss": 0.5})
    first.end(RunRecord(status="interrupted", reason="SIGTERM"))
    again = WandbRun(cfg, tmp_path / "run")
    again.start()
    again.epoch(2, {"loss": 0.4})
    again.end(RunRecord(status="completed"))
    before, after = offline_runs(tmp_path / "run" / "wandb")  # `wandb sync` uploads both into one run
    assert before.run_id == after.run_id
    assert (before.history, before.exit_code) == ({1: {"loss": 0.5}}, 1)
    assert before.summary["status"] == "interrupted"
    assert (after.history, after.exit_code, after.summary["status"]) == ({2: {"loss": 0.4}}, 0, "completed")
    other = WandbRun(cfg, tmp_path / "other")
    other.start()
    other.end(RunRecord(status="completed"))
    (elsewhere,) = offline_runs(tmp_path / "other")
    assert elsewhere.run_id != before.run_id


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("logger.mode=cloud", "logger.mode='cloud' is not a W&B mode; choose offline"),
        ("+logger.experiment=x", "logger.experiment is not a key of logger=wandb"),
        ("logger.project=''", "logger.project='' must name a W&B project"),
        ("logger.group=''", "logger.group='' must be text or null"),
    ],
)
def test_bad_wandb_values_are_refused_before_training(make_cfg, tmp_path, override, message):
    with pytest.raises(SeqexpError, match=message):
        train(make_cfg("logger=wandb", override))
    assert not (tmp_path / "run" / "wandb").exists() and not (tmp_path / "run" / "checkpoints").exists()


@pytest.mark.slow
def test_a_sweeps_jobs_are_one_wandb_group(tmp_path):
    sweep_dir = tmp_path / "multirun" / "sweep"
    sweep_dir.mkdir(parents=True)
    result = sweep(sweep_dir, "logger=wandb", "model.units=[4],[8]", "trainer.epochs=2")
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = run_dirs(sweep_dir)
    assert len(jobs) == 2
    runs = {run.name: run for run in offline_runs(sweep_dir)}
    assert sorted(runs) == [job.name for job in jobs]
    for job in jobs:
        run = runs[job.name]
        assert run.folder.parent == job / "wandb"
        assert run.group == sweep_name(str(sweep_dir)) == "multirun/sweep"
        assert_history_matches(run, job)
        assert len(run.history) == 2 and run.summary["status"] == "completed" and run.exit_code == 0
    assert sorted(str(run.config["model.units"]) for run in runs.values()) == ["[4]", "[8]"]
    assert len({run.run_id for run in runs.values()}) == 2


def test_an_online_run_without_a_login_is_refused_before_training(make_cfg, tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.netrc with a key
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "home" / "wandb"))
    with pytest.raises(SeqexpError, match="could not start an online W&B run: .*wandb login"):
        train(make_cfg("logger=wandb", "logger.mode=online"))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "failed" and "wandb login" in metrics["reason"]
    assert not metrics.get("epochs_run") and not metrics.get("best")  # no epoch was trained
