"""The `seqexp` command itself, run as a user runs it (subprocesses)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from tests.conftest import TINY_JENA

FAST = ["trainer.verbose=0", "callbacks.tensorboard.enabled=false"]


def seqexp(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "seqexp.cli", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def imports_tensorflow(*args: str, cwd: Path) -> tuple[bool, str]:
    """Run `seqexp <args>` in a fresh interpreter and report whether TensorFlow got imported."""
    probe = (
        "import sys\n"
        "from seqexp.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print('TF-IMPORTED' if 'tensorflow' in sys.modules or 'keras' in sys.modules else 'NO-TF')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    return "TF-IMPORTED" in out.stdout, out.stdout


def test_help_lists_commands_without_tensorflow(tmp_path):
    imported, out = imports_tensorflow("--help", cwd=tmp_path)
    assert not imported and "train" in out and "seqexp <command>" in out
    imported, out = imports_tensorflow("train", "--cfg", "job", "experiment=smoke", cwd=tmp_path)
    assert not imported and "lookback: 144" in out
    imported, out = imports_tensorflow("train", "--help", cwd=tmp_path)
    assert not imported and "model: " in out and "experiment: " in out


def test_unknown_command_and_option_fail_clearly(tmp_path):
    result = seqexp("trian", cwd=tmp_path)
    assert result.returncode == 2 and "unknown command 'trian'" in result.stderr
    result = seqexp("train", "model=transformer", cwd=tmp_path)
    assert result.returncode != 0 and "model/transformer" in result.stderr


@pytest.mark.slow  # real processes or several trainings: make test-slow
def test_user_error_exits_2_with_one_paragraph_and_no_traceback(tmp_path, jena_csv):
    result = seqexp("train", f"data.path={jena_csv}", "data.target=Temp", *FAST, cwd=tmp_path)
    assert result.returncode == 2
    assert "seqexp: error: Unknown Jena column(s) ['Temp']" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert (result.stderr + result.stdout).count("Unknown Jena column(s)") == 1  # said once
    (train_log,) = (tmp_path / "outputs").glob("*/*/train.log")
    assert "[ERROR] Unknown Jena column(s) ['Temp']" in train_log.read_text()


@pytest.mark.slow  # real processes or several trainings: make test-slow
def test_smoke_experiment_end_to_end(tmp_path):
    result = seqexp("train", "experiment=smoke", "hydra.run.dir=smoke_run", *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    run = tmp_path / "smoke_run"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 3
    assert metrics["data"] == "jena" and metrics["model"] == "gru"
    rows = list(csv.DictReader((run / "history.csv").open()))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert min(float(r["val_loss"]) for r in rows) == metrics["best"]["val_loss"]
    for png in ("loss.png", "mae.png"):
        assert mpimg.imread(run / png).shape[0] > 100
    assert (run / "checkpoints" / "best.keras").stat().st_size > 10_000
    assert (run / ".hydra" / "config.yaml").exists() and (run / ".hydra" / "overrides.yaml").exists()
    assert "Composed config" in (run / "train.log").read_text()


@pytest.mark.slow  # real processes or several trainings: make test-slow
def test_two_job_sweep_gives_two_complete_run_dirs(tmp_path, jena_csv):
    result = seqexp(
        "train",
        "-m",
        "model=dense,gru",
        f"data.path={jena_csv}",
        *TINY_JENA,
        *FAST,
        "hydra.sweep.dir=sweep",
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    runs = sorted(p for p in (tmp_path / "sweep").iterdir() if p.is_dir() and p.name[0].isdigit())
    assert [r.name for r in runs] == ["0_jena_dense", "1_jena_gru"]
    for run, model in zip(runs, ["dense", "gru"], strict=True):
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["model"] == model and metrics["status"] == "completed"
        assert (run / "checkpoints" / "best.keras").exists() and (run / "loss.png").exists()


@pytest.mark.slow  # real processes or several trainings: make test-slow
def test_default_run_dir_names_date_time_data_and_model(tmp_path, jena_csv):
    result = seqexp("train", "model=naive", f"data.path={jena_csv}", *TINY_JENA, *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    (day,) = (tmp_path / "outputs").iterdir()
    (run,) = day.iterdir()
    assert run.name.endswith("_jena_naive") and len(day.name) == 10
    assert json.loads((run / "metrics.json").read_text())["status"] == "completed"


def test_info_flag_goes_through(tmp_path):
    result = seqexp("train", "--info", "defaults", cwd=tmp_path)
    assert result.returncode == 0 and "model/gru" in result.stdout and "data/jena" in result.stdout


def test_shell_completion_goes_through_the_command(tmp_path):
    def query(line: str) -> str:
        env = {**os.environ, "COMP_LINE": line, "COMP_POINT": str(len(line))}
        out = subprocess.run(
            [sys.executable, "-m", "seqexp.cli", "-sc", "query=bash"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return out.stdout.split()

    assert query("seqexp tr") == ["train"]
    assert query("seqexp train model=gr") == ["model=gru", "model=gru_dropout", "model=gru_stacked"]
    install = seqexp("train", "-sc", "install=bash", cwd=tmp_path).stdout
    assert install.rstrip().endswith("-F hydra_bash_completion seqexp")


@pytest.mark.slow
def test_ctrl_c_keeps_the_run_directory_and_the_same_command_resumes(tmp_path):
    import signal
    import time

    command = [
        sys.executable,
        "-m",
        "seqexp.cli",
        "train",
        "experiment=smoke",
        "trainer.epochs=8",
        "hydra.run.dir=run",
        *FAST,
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    history = tmp_path / "run" / "history.csv"
    deadline = time.time() + 600  # a hang guard only: a busy machine is slow, not wrong
    while time.time() < deadline and (not history.exists() or len(history.read_text().splitlines()) < 3):
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 130 and "interrupted" in stderr, stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "interrupted" and 2 <= metrics["epochs_run"] < 8
    assert (tmp_path / "run" / "checkpoints" / "best.keras").exists()
    assert (tmp_path / "run" / "backup").is_dir()

    resumed = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 8
    assert 1 <= metrics["resumed_after_epoch"] <= 7  # an epoch logged after the last backup reruns
    rows = list(csv.DictReader(history.open()))
    assert [int(r["epoch"]) for r in rows] == list(range(8))  # no epoch lost or repeated
    assert min(float(r["val_loss"]) for r in rows) == metrics["best"]["val_loss"]
    assert not (tmp_path / "run" / "backup").exists()  # Keras removes it once training ends
