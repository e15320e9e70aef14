"""Faults during training: SIGKILL, SIGTERM, Ctrl-C, a nan loss, resuming, atomic artifacts."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
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


def wait_for_epochs(run_dir: Path, epochs: int, timeout: float = 600) -> None:
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


@pytest.mark.slow
def test_sigkill_mid_epoch_leaves_parseable_files_and_the_run_resumes(tmp_path):
    run = tmp_path / "run"
    command = ["train", "experiment=smoke", "trainer.epochs=5", f"hydra.run.dir={run}", *FAST]
    process = start(tmp_path, *command)
    wait_for_epochs(run, 2)
    time.sleep(0.3)  # into the third epoch
    process.kill()
    process.communicate(timeout=600)
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


@pytest.mark.slow
def test_sigterm_stops_the_run_with_status_interrupted(tmp_path):
    run = tmp_path / "run"
    process = start(tmp_path, "train", "experiment=smoke", "trainer.epochs=8", f"hydra.run.dir={run}", *FAST)
    wait_for_epochs(run, 2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=600)
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


def test_a_ctrl_c_whose_exception_python_dropped_still_stops_the_run(tmp_path, tiny, monkeypatch):
    """A signal handler runs wherever the main thread is; raised inside a finalizer (__del__),
    its exception is dropped ("Exception ignored in ...") and fit would go on to the end. The
    run still stops after that batch, as interrupted, and says so."""
    import keras

    from seqexp import interrupt

    dropped = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: dropped.append(info.exc_type))

    class Finalizer:
        def __del__(self):
            interrupt._handle(signal.SIGINT, None)  # what the handler does on Ctrl-C, here

    class CtrlCInAFinalizer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == 0:
                Finalizer()  # collected at once: the handler's exception is dropped

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    with pytest.raises(KeyboardInterrupt, match="Ctrl-C"):
        train(compose_train(tmp_path / "run", *tiny), more_callbacks=lambda monitor: [CtrlCInAFinalizer()])
    assert dropped == [interrupt.Interrupted]  # Python did drop it
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "interrupted" and metrics["reason"] == "stopped by the user (Ctrl-C)"
    assert metrics["epochs_run"] == 1  # stopped inside the 2nd of 4 epochs


def ctrl_c_at(epoch: int, batch: int):
    """more_callbacks for train(): Ctrl-C this process at a given batch (from 0), whatever the load."""
    import keras

    class CtrlC(keras.callbacks.Callback):
        def on_epoch_begin(self, e, logs=None):
            self.epoch = e

        def on_train_batch_end(self, b, logs=None):
            if (self.epoch, b) == (epoch, batch):
                os.kill(os.getpid(), signal.SIGINT)

    return lambda monitor: [CtrlC()]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["lstm_dropout"])  # dropout: the seed generators resume too
def test_resumed_run_matches_an_uninterrupted_one(tmp_path, tiny, model):
    """Weights, optimizer state and the batch stream all continue: the histories are equal."""
    run = [*tiny, f"model={model}", "data.split.train=[0,600]"]  # 22 batches an epoch
    whole = tmp_path / "whole"
    train(compose_train(whole, *run))
    parts = tmp_path / "parts"
    with pytest.raises(KeyboardInterrupt):  # in the 3rd of 4 epochs; the backup holds epoch 1
        train(compose_train(parts, *run), more_callbacks=ctrl_c_at(epoch=2, batch=5))
    assert json.loads((parts / "metrics.json").read_text())["status"] == "interrupted"
    train(compose_train(parts, *run))
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
        timeout=600,
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
        timeout=600,
    )
    assert resumed.returncode == 2 and "no .hydra/overrides.yaml" in resumed.stderr


@pytest.mark.slow
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


@pytest.mark.slow
def test_runs_started_together_get_their_own_directories(tmp_path):
    """Run directories carry microseconds: two runs started at once never share one."""
    command = ["train", "experiment=smoke", "data.path=missing.csv", *FAST]
    processes = [start(tmp_path, *command) for _ in range(2)]
    for process in processes:
        _, stderr = process.communicate(timeout=600)
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


# ---- an interrupt outside fit: status never stays "running" ----------------------------------


def sigint_at_start(function):
    """`function` that receives Ctrl-C (a real SIGINT, the run's own handler) as it starts."""

    def wrapper(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        return function(*args, **kwargs)

    return wrapper


def after_fit_only(monkeypatch):
    """A flag that turns True once model.fit has returned (evaluate also runs inside fit)."""
    import keras

    state = {"fitted": False}
    fit = keras.Model.fit

    def fit_then_flag(self, *args, **kwargs):
        result = fit(self, *args, **kwargs)
        state["fitted"] = True
        return result

    monkeypatch.setattr(keras.Model, "fit", fit_then_flag)
    return state


def interrupt_phase(monkeypatch, phase: str) -> None:
    import keras

    import seqexp.data.jena
    import seqexp.data.serving
    import seqexp.run.train

    if phase == "environment capture":
        monkeypatch.setattr(seqexp.run.train, "capture", sigint_at_start(seqexp.run.train.capture))
    elif phase == "data loading":
        monkeypatch.setattr(seqexp.data.jena, "read_jena", sigint_at_start(seqexp.data.jena.read_jena))
    elif phase == "model summary":
        monkeypatch.setattr(keras.Model, "summary", sigint_at_start(keras.Model.summary))
    elif phase in ("best-checkpoint reload", "test evaluation"):
        fitted = after_fit_only(monkeypatch)
        name = "load_weights" if phase == "best-checkpoint reload" else "evaluate"
        original = getattr(keras.Model, name)

        def maybe(self, *args, **kwargs):
            if fitted["fitted"]:
                os.kill(os.getpid(), signal.SIGINT)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(keras.Model, name, maybe)
    elif phase == "reports":
        save = seqexp.data.serving.save_serving
        monkeypatch.setattr(seqexp.data.serving, "save_serving", sigint_at_start(save))


PHASES = ["environment capture", "data loading", "model summary", "best-checkpoint reload",
          "test evaluation", "reports"]  # fmt: skip


@pytest.mark.parametrize("phase", PHASES)
def test_an_interrupt_outside_fit_ends_interrupted_not_running(tmp_path, tiny, monkeypatch, phase):
    run = tmp_path / "run"
    interrupt_phase(monkeypatch, phase)
    with pytest.raises(KeyboardInterrupt):
        train(compose_train(run, *tiny, "trainer.epochs=1", "trainer.steps_per_epoch=2"))
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "interrupted", (phase, metrics)
    assert metrics["reason"] == "stopped by the user (Ctrl-C)"
    assert "test" not in metrics  # no claim of a finished evaluation


# ---- behaviours a regression would break silently ---------------------------------------------


class Snapshots:
    """Keras callback (added after the run's own, via train's more_callbacks): keeps the weights
    of every epoch, and scrambles the model at chosen points so that the right weights matter."""

    def __init__(self, scramble_after_epoch: int | None = None, scramble_at_start: bool = False):
        import keras

        outer = self

        class Callback(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                outer.model = self.model
                if scramble_at_start:
                    outer.scramble(self.model)

            def on_epoch_end(self, epoch, logs=None):
                outer.weights[epoch] = self.model.get_weights()
                if epoch == scramble_after_epoch:
                    outer.scramble(self.model)

            def on_train_end(self, logs=None):
                if scramble_after_epoch == "end":
                    outer.scramble(self.model)
                    outer.scrambled = self.model.get_weights()

        self.callback = Callback()
        self.weights: dict[int, list] = {}
        self.model = None

    @staticmethod
    def scramble(model) -> None:
        import numpy as np

        rng = np.random.default_rng(0)
        model.set_weights([rng.normal(0, 3, w.shape).astype(w.dtype) for w in model.get_weights()])

    def __call__(self, monitor):
        return [self.callback]


def test_metrics(cfg, model, weights) -> dict:
    """The test split's metrics of `model` with `weights`, evaluated as train evaluates it."""
    from hydra.utils import instantiate

    data = instantiate(cfg.data)
    model.set_weights(weights)
    return model.evaluate(data.test.take(cfg.trainer.test_steps), verbose=0, return_dict=True)


test_metrics.__test__ = False  # a helper, not a test


def test_the_best_checkpoint_is_loaded_before_the_test_evaluation(tmp_path, tiny):
    """The model is scrambled when fit ends: only the reload of best.keras gives back the test
    metrics of the best epoch."""
    import keras

    snapshots = Snapshots(scramble_after_epoch="end")
    cfg = compose_train(tmp_path / "run", *tiny, "trainer.epochs=2")
    train(cfg, more_callbacks=snapshots)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["weights"] == "best checkpoint"
    best = keras.models.load_model(tmp_path / "run" / "checkpoints" / "best.keras")
    expected = test_metrics(cfg, snapshots.model, best.get_weights())
    assert metrics["test"]["loss"] == pytest.approx(expected["loss"], rel=1e-5)
    scrambled = test_metrics(cfg, snapshots.model, snapshots.scrambled)  # what fit left behind
    assert scrambled["loss"] > 1.5 * expected["loss"]  # so the check above can tell them apart


def test_early_stopping_restores_the_best_epoch_when_checkpoints_are_off(tmp_path, tiny):
    """Checkpoint off, early stopping with restore_best_weights: the model is scrambled after
    epoch 2, so epoch 3 is worse and stops the run; the test split sees the best epoch's weights."""
    snapshots = Snapshots(scramble_after_epoch=1)
    cfg = compose_train(
        tmp_path / "run", *tiny, "trainer.epochs=6", "callbacks.checkpoint.enabled=false",
        "callbacks.early_stopping.enabled=true", "callbacks.early_stopping.patience=1",
        "callbacks.early_stopping.restore_best_weights=true",
    )  # fmt: skip
    best_value = train(cfg, more_callbacks=snapshots)
    run = tmp_path / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    history = list(csv.DictReader((run / "history.csv").open()))
    val = [float(row["val_loss"]) for row in history]
    assert metrics["status"] == "stopped early" and metrics["weights"] == "best epoch (early stopping)"
    assert not (run / "checkpoints" / "best.keras").exists()
    best_index = val.index(min(val))
    assert metrics["epochs_run"] == len(val) >= 2 and metrics["best_epoch"] == best_index + 1 < len(val)
    assert metrics["best"]["val_loss"] == pytest.approx(val[best_index]) == pytest.approx(best_value)
    assert metrics["best"]["loss"] == pytest.approx(float(history[best_index]["loss"]))
    expected = test_metrics(cfg, snapshots.model, snapshots.weights[best_index])
    assert metrics["test"]["loss"] == pytest.approx(expected["loss"], rel=1e-5)


@pytest.mark.slow
def test_a_resumed_run_keeps_the_best_checkpoint_against_a_worse_epoch(tmp_path, tiny):
    """Interrupted after epoch 2; the resumed run starts from scrambled weights, so epoch 3 is
    worse than the best so far and must not replace best.keras (the checkpoint's threshold is
    the history's best, restored on resume)."""

    import keras

    class StopAfterEpoch2(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:  # after the checkpoint and the backup of epoch 2
                os.kill(os.getpid(), signal.SIGINT)

    run = tmp_path / "run"
    every_epoch = [*tiny, "callbacks.backup.every_s=0"]  # a backup of epoch 2 to resume from
    with pytest.raises(KeyboardInterrupt):
        train(compose_train(run, *every_epoch), more_callbacks=lambda monitor: [StopAfterEpoch2()])
    best = run / "checkpoints" / "best.keras"
    saved = best.read_bytes()
    before = [float(r["val_loss"]) for r in csv.DictReader((run / "history.csv").open())]
    train(compose_train(run, *every_epoch), more_callbacks=Snapshots(scramble_at_start=True))
    metrics = json.loads((run / "metrics.json").read_text())
    val = [float(r["val_loss"]) for r in csv.DictReader((run / "history.csv").open())]
    assert metrics["resumed_after_epoch"] == 2 and len(val) == 4 and val[:2] == pytest.approx(before)
    assert min(val[2:]) > min(val[:2])  # the resumed epochs are all worse (scrambled weights)
    assert best.read_bytes() == saved  # so best.keras is still epoch <= 2's
    assert metrics["best_epoch"] <= 2 and metrics["weights"] == "best checkpoint"


def test_a_run_that_ended_failed_is_refused_by_hydra_run_dir(tmp_path, capsys):
    from tests.badinput import run_cli

    run = tmp_path / "run"
    run.mkdir()
    failed = json.dumps({"status": "failed", "reason": "nan loss: the loss became nan at epoch 1, batch 3"})
    (run / "metrics.json").write_text(failed)
    code, err = run_cli(["train", "experiment=smoke", f"hydra.run.dir={run}"], capsys)
    assert code == 2 and "already holds a run that ended with status 'failed'" in err
    assert (run / "metrics.json").read_text() == failed
    assert sorted(p.name for p in run.iterdir()) == ["metrics.json"]  # not even .hydra/


def test_samples_per_second_counts_training_samples_only(tmp_path, tiny, monkeypatch):
    """A clock that only moves when a batch ends: 1 s per training batch, 100 s per validation
    batch. Training throughput is then exactly batch_size samples per second."""
    import types

    import keras

    import seqexp.run.keras_callbacks as keras_callbacks

    clock = {"now": 0.0}
    monkeypatch.setattr(keras_callbacks, "time", types.SimpleNamespace(perf_counter=lambda: clock["now"]))

    class Tick(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            clock["now"] += 1.0

        def on_test_batch_end(self, batch, logs=None):
            clock["now"] += 100.0

    cfg = compose_train(tmp_path / "run", *tiny, "trainer.epochs=2", "trainer.steps_per_epoch=3")
    train(cfg, more_callbacks=lambda monitor: [Tick()])
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert cfg.trainer.batch_size == 16 and metrics["epochs_run"] == 2
    assert metrics["samples_per_second"] == pytest.approx(16.0)  # 2 x 3 x 16 samples in 6 s


# ---- a full disk while the backup's weights are written --------------------------------------

SMOKE_BACKUP = ["experiment=smoke", "callbacks.checkpoint.enabled=false", *FAST]


@pytest.mark.slow
def test_a_full_disk_at_the_backups_weights_is_one_sentence_and_resumable(tmp_path, capsys, monkeypatch):
    """h5py cannot recover from a write that finds the disk full (a segfault at exit, exit code
    139): the space is claimed first, so the run ends as any full disk does, and resumes."""
    import errno

    from tests.badinput import run_cli

    real = os.posix_fallocate

    def full(fd, offset, size):
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".reserve"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, offset, size)

    monkeypatch.setattr(os, "posix_fallocate", full)
    run = tmp_path / "run"
    code, err = run_cli(["train", *SMOKE_BACKUP, f"hydra.run.dir={run}"], capsys)
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        f"seqexp: error: Could not write ({run / 'backup'}): the disk is full (No space left on device); "
        f"once it is fixed, `seqexp resume {run}` continues the run from its last finished epoch."
    )
    report = json.loads((run / "metrics.json").read_text())
    assert report["status"] == "failed" and report["resumable"] is True
    assert not list((run / "backup").glob("tmp.*"))  # no half-written weights left behind

    monkeypatch.setattr(os, "posix_fallocate", real)  # space freed
    code, err = run_cli(["resume", str(run)], capsys)
    assert code == 0, err[-2000:]
    assert json.loads((run / "metrics.json").read_text())["status"] == "completed"


@pytest.mark.slow
def test_a_real_full_disk_at_the_backups_weights_does_not_crash(tmp_path):
    """The same on a real full file system (a tiny tmpfs; needs root and mount, else skipped)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)]).returncode
    ):
        pytest.skip("mounting a tmpfs needs root")
    try:
        (disk / "filler").write_bytes(
            bytes((1024 - 150) * 1024)
        )  # ~150 KiB left: the backup's weights do not fit
        result = subprocess.run(
            [sys.executable, "-m", "seqexp.cli", "train", *SMOKE_BACKUP, f"hydra.run.dir={disk / 'run'}"],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=300,
        )
        assert result.returncode == 1, result.stderr[-2000:]  # not 139 (SIGSEGV)
        assert "Exception ignored" not in result.stderr
        assert "seqexp: error: Could not write" in result.stderr and "the disk is full" in result.stderr
    finally:
        subprocess.run(["umount", str(disk)])
