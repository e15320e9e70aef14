"""Faults during training: SIGKILL, SIGTERM, Ctrl-C, a nan loss, resuming, atomic artifacts."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import h5py
import matplotlib.image as mpimg
import pytest
import yaml

from seqexp.errors import SeqexpError
from seqexp.run.train import train
from tests.conftest import TINY_JENA, compose_train

FAST = ["trainer.verbose=0", "callbacks.tensorboard.enabled=false"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def start(cwd: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "seqexp.cli", *args],
        cwd=cwd,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_epochs(run_dir: Path, epochs: int, timeout: float = 120) -> None:
    history = run_dir / "history.csv"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if history.exists() and len(history.read_text().splitlines()) > epochs:
            return
        time.sleep(0.05)
    raise AssertionError(f"{epochs} epochs were not logged in {timeout} s")


def epochs_of(history: Path) -> list[int]:
    return [int(row["epoch"]) for row in csv.DictReader(history.open())]


def check_every_file_parses(run_dir: Path) -> None:
    """Each artifact reads back whole: the run can be inspected and resumed after any kill."""
    for path in run_dir.rglob("*"):
        if path.is_dir() or path.name.startswith("tmp."):  # a write the kill cut short
            continue
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".csv":
            rows = list(csv.DictReader(path.open()))
            assert rows and all(float(v) == float(v) for row in rows for v in row.values())
        elif path.suffix == ".png":
            assert mpimg.imread(path).ndim == 3
        elif path.suffix == ".keras":
            assert zipfile.ZipFile(path).testzip() is None
        elif path.suffix == ".h5":
            with h5py.File(path, "r") as f:
                assert len(f.keys()) > 0
        elif path.suffix == ".yaml":
            yaml.safe_load(path.read_text())


def test_sigkill_mid_epoch_leaves_parseable_files_and_the_run_resumes(tmp_path):
    run = tmp_path / "run"
    command = ["train", "experiment=smoke", "trainer.epochs=5", f"hydra.run.dir={run}", *FAST]
    process = start(tmp_path, *command)
    wait_for_epochs(run, 2)
    time.sleep(0.3)  # into the third epoch
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL

    check_every_file_parses(run)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "running"  # a killed run never claims success
    assert (run / "checkpoints" / "best.keras").exists()

    resumed = subprocess.run(
        [sys.executable, "-m", "seqexp.cli", "resume", str(run)],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming" in resumed.stderr and "experiment=smoke" in resumed.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 5
    assert metrics["resumed_after_epoch"] >= 1  # the backup of epoch 2 may not have been written
    assert epochs_of(run / "history.csv") == [0, 1, 2, 3, 4]  # continuous, complete
    check_every_file_parses(run)
    assert not list(run.rglob("tmp.*"))


def test_sigterm_stops_the_run_with_status_interrupted(tmp_path):
    run = tmp_path / "run"
    process = start(tmp_path, "train", "experiment=smoke", "trainer.epochs=8", f"hydra.run.dir={run}", *FAST)
    wait_for_epochs(run, 2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr[-2000:]
    assert "interrupted (stopped by SIGTERM)" in stderr and "Traceback" not in stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "interrupted" and metrics["reason"] == "stopped by SIGTERM"
    assert 2 <= metrics["epochs_run"] < 8 and metrics["best"]["val_loss"] > 0
    check_every_file_parses(run)


@pytest.fixture
def tiny(jena_csv):
    return [
        f"data.path={jena_csv}",
        *TINY_JENA,
        "trainer.steps_per_epoch=null",
        "callbacks.early_stopping.enabled=false",
        "trainer.epochs=4",
    ]


def test_nan_loss_stops_training_and_says_failed(tmp_path, tiny):
    cfg = compose_train(
        tmp_path / "run", *tiny, "trainer.loss=mse", "optimizer=sgd", "optimizer.learning_rate=1e20"
    )
    with pytest.raises(SeqexpError, match="nan loss") as err:
        train(cfg)
    assert "learning_rate" in str(err.value)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "failed" and metrics["reason"].startswith("nan loss")
    assert "epoch 1, batch" in metrics["reason"] and metrics["epochs_run"] == 1  # stopped at once
    assert (tmp_path / "run" / "loss.png").exists() and (tmp_path / "run" / "history.csv").exists()


def interrupt_after(run_dir: Path, epochs: int) -> threading.Thread:
    """Ctrl-C this process once `epochs` epochs are logged in run_dir."""

    def wait_then_interrupt():
        wait_for_epochs(run_dir, epochs)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=wait_then_interrupt, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("model", ["lstm_dropout"])  # dropout: the seed generators resume too
def test_resumed_run_matches_an_uninterrupted_one(tmp_path, tiny, model):
    """Weights, optimizer state and the batch stream all continue: the histories are equal."""
    whole = tmp_path / "whole"
    train(compose_train(whole, *tiny, f"model={model}"))
    parts = tmp_path / "parts"
    interrupt_after(parts, 2)
    with pytest.raises(KeyboardInterrupt):
        train(compose_train(parts, *tiny, f"model={model}"))
    assert json.loads((parts / "metrics.json").read_text())["status"] == "interrupted"
    train(compose_train(parts, *tiny, f"model={model}"))
    expected = list(csv.DictReader((whole / "history.csv").open()))
    got = list(csv.DictReader((parts / "history.csv").open()))
    assert len(got) == 4 and json.loads((parts / "metrics.json").read_text())["resumed_after_epoch"] >= 1
    for want, have in zip(expected, got, strict=True):
        assert float(have["loss"]) == pytest.approx(float(want["loss"]), rel=1e-5)
        assert float(have["val_loss"]) == pytest.approx(float(want["val_loss"]), rel=1e-5)


def test_a_finished_run_directory_is_never_trained_over(tmp_path, jena_csv):
    run = tmp_path / "run"
    run.mkdir()
    finished = {"status": "completed", "best": {"val_loss": 0.1}}
    (run / "metrics.json").write_text(json.dumps(finished))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqexp.cli",
            "train",
            f"data.path={jena_csv}",
            *TINY_JENA,
            f"hydra.run.dir={run}",
            *FAST,
        ],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "already holds a run that ended with status 'completed'" in result.stderr
    assert json.loads((run / "metrics.json").read_text()) == finished
    assert sorted(p.name for p in run.iterdir()) == ["metrics.json"]  # not even .hydra/ was written

    resumed = subprocess.run(
        [sys.executable, "-m", "seqexp.cli", "resume", str(run)],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert resumed.returncode == 2 and "no .hydra/overrides.yaml" in resumed.stderr


def test_an_interrupted_run_directory_refuses_another_config(tmp_path):
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("- experiment=smoke\n")
    (run / "metrics.json").write_text(json.dumps({"status": "interrupted"}))
    from seqexp.cli import main

    assert main(["train", "experiment=smoke", "model=lstm", f"hydra.run.dir={run}"]) == 2
    assert (run / ".hydra" / "overrides.yaml").read_text() == "- experiment=smoke\n"


def test_atomic_checkpoint_keeps_the_old_file_when_a_save_fails(tmp_path, tiny, monkeypatch):
    """A save that dies half-way leaves the previous best checkpoint whole (and no temp file)."""
    import keras

    cfg = compose_train(tmp_path / "run", *tiny, "trainer.epochs=1")
    train(cfg)
    best = tmp_path / "run" / "checkpoints" / "best.keras"
    before = best.read_bytes()

    def torn_save(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", torn_save)
    from seqexp.run.keras_callbacks import AtomicModelCheckpoint

    saver = AtomicModelCheckpoint(str(best), monitor="loss", save_best_only=False)
    saver.set_model(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
    with pytest.raises(OSError, match="disk full"):
        saver.on_epoch_end(0, {"loss": 0.5})
    assert best.read_bytes() == before and not list(best.parent.glob("tmp.*"))


def test_runs_started_together_get_their_own_directories(tmp_path):
    """Run directories carry microseconds: two runs started at once never share one."""
    command = ["train", "experiment=smoke", "data.path=missing.csv", *FAST]
    processes = [start(tmp_path, *command) for _ in range(2)]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 2 and "missing.csv" in stderr
    logs = sorted((tmp_path / "outputs").glob("*/*/train.log"))
    assert len(logs) == 2 and logs[0].parent != logs[1].parent
    assert all(log.parent.name.endswith("_jena_gru") for log in logs)


def test_a_sweep_never_runs_into_a_sweep_dir_with_finished_runs(tmp_path):
    sweep_dir = tmp_path / "sweep"
    (sweep_dir / "0_jena_gru").mkdir(parents=True)
    finished = json.dumps({"status": "completed"})
    (sweep_dir / "0_jena_gru" / "metrics.json").write_text(finished)
    from seqexp.cli import main

    assert main(["train", "-m", "experiment=smoke", "model.units=8,16", f"hydra.sweep.dir={sweep_dir}"]) == 2
    assert (sweep_dir / "0_jena_gru" / "metrics.json").read_text() == finished
    assert sorted(p.name for p in sweep_dir.iterdir()) == ["0_jena_gru"]  # nothing else written
