"""What a run says on the console: a short header (run dir, data, model, settings, backend and
device), not the composed config (train.log keeps it), no TensorFlow C++ start-up noise, and
closing lines with the best epoch, the best and test metrics and the run directory."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from seqexp.run.train import train
from tests.conftest import TINY_JENA


def test_a_run_says_a_short_header_and_closing_lines(make_cfg, jena_csv, tmp_path, caplog, monkeypatch):
    from seqexp import backend

    caplog.set_level(logging.INFO)
    # as if this process had just loaded Keras through backend.quiet_start
    monkeypatch.setattr(backend, "startup_messages", "I0000 cudart_stub.cc:31] Could not find cuda drivers\n")
    run_dir = tmp_path / "run"
    cfg = make_cfg(
        f"data.path={jena_csv}", *TINY_JENA, "model=gru", "optimizer=adam", "optimizer.learning_rate=0.002"
    )
    train(cfg)
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    text = "\n".join(said)
    assert "Composed config" not in text and "_target_" not in text  # no config dump on the console
    assert said[:3] == [
        f"Run dir: {run_dir} (full config: train.log, .hydra/config.yaml)",
        f"Data: jena ({jena_csv})   Model: gru",
        "Training: 1 epoch, batch size 16, 2 steps per epoch, adam (learning rate 0.002), "
        "monitor val_loss, seed 0",
    ]
    (device,) = [line for line in said if line.startswith("Backend: ")]
    assert device.startswith("Backend: tensorflow ") and (" on CPU (" in device or " GPU(s): " in device)
    record = json.loads((run_dir / "metrics.json").read_text())
    best, test = record["best"]["val_loss"], record["test"]["mae"]
    closing = said[-4:]
    assert closing[0] == (
        f"Best val_loss = {best:.4f} at epoch {record['best_epoch']} of 1; "
        f"test split evaluated with the best checkpoint"
    )
    assert closing[1].startswith("Best epoch: ") and f"val_loss {best:.4f}" in closing[1]
    assert closing[2].startswith("Test: ") and f"mae {test:.4f}" in closing[2]
    assert closing[3].startswith(f"Run dir: {run_dir} ")
    log = (run_dir / "train.log").read_text()
    assert "Composed config:" in log.splitlines()[0]  # the full config stays in train.log, first
    assert "_target_: seqexp.run.optimizers.adam" in log and f"Run dir: {run_dir}" in log
    assert "cudart_stub" in log and "cudart_stub" not in text  # held back: in train.log, once
    assert backend.startup_messages == ""  # the next run of this process did not load Keras


def python(code: str, **env: str | None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow  # fresh interpreters
def test_tensorflows_cpp_noise_is_silenced_unless_the_user_asks():
    show = (
        "import os; from seqexp import backend; backend.choose('tensorflow')\n"
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    )
    assert python(show, TF_CPP_MIN_LOG_LEVEL=None).stdout.strip() == "3"
    assert python(show, TF_CPP_MIN_LOG_LEVEL="0").stdout.strip() == "0"  # the user's choice is kept
    # what C++ libraries print on fd 2 while Keras loads is held back, for train.log
    noisy = (
        "import os; from seqexp import backend; backend.choose('tensorflow')\n"
        "with backend.quiet_start():\n    os.write(2, b'cudart_stub.cc:31] no cuda drivers\\n')\n"
        "print(repr(backend.startup_messages))"
    )
    quiet = python(noisy, TF_CPP_MIN_LOG_LEVEL=None)
    assert "cudart_stub" not in quiet.stderr and "no cuda drivers" in quiet.stdout
    assert "cudart_stub" in python(noisy, TF_CPP_MIN_LOG_LEVEL="0").stderr
    # a failure while loading shows what was held back
    failing = noisy.replace("\\n')\n", "\\n'); raise ImportError('broken')\n")
    failed = python(failing, TF_CPP_MIN_LOG_LEVEL=None)
    assert (
        failed.returncode != 0 and "cudart_stub" in failed.stderr and "ImportError: broken" in failed.stderr
    )


@pytest.mark.slow  # a real `seqexp train` process
def test_the_first_run_reads_well_on_the_console(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user runs it
    short = [
        "trainer.epochs=1",
        "trainer.steps_per_epoch=2",
        "trainer.validation_steps=2",
        "trainer.test_steps=2",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "seqexp.cli", "train", "experiment=smoke", "hydra.run.dir=first_run", *short],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    console = result.stdout + result.stderr
    assert "Run dir: first_run (full config: train.log" in console and "Model: gru" in console
    assert "_target_" not in console and "Composed config" not in console
    assert "cuInit" not in console and "cudart_stub" not in console and "absl::InitializeLog" not in console
    lines = [line for line in console.splitlines() if line.strip()]
    assert len(lines) < 20, console  # was ~110: the composed config and TF's start-up lines
    record = json.loads((tmp_path / "first_run" / "metrics.json").read_text())
    assert f"Best val_loss = {record['best']['val_loss']:.4f} at epoch {record['best_epoch']} of 1" in console
    assert f"mae {record['test']['mae']:.4f}" in lines[-2] and lines[-1].split("] ", 1)[1].startswith(
        "Run dir: first_run "
    )
    assert "Composed config:" in (tmp_path / "first_run" / "train.log").read_text()


def test_a_sweep_says_each_jobs_numbers_as_a_run_does(tmp_path):
    import io

    from seqexp.sweep.progress import Progress, Watched

    out = io.StringIO()
    job = Watched(num=1, label="model.dropout=0.2", folder=tmp_path / "1_jena_gru")
    report = {"status": "completed", "monitor": "val_mae", "best_epoch": 3, "wall_time_s": 75.2,
              "best": {"val_mae": 0.31234, "val_loss": 0.5}, "test": {"mae": 0.345678}}  # fmt: skip
    Progress([job], done=0, slots=1, durations=[], out=out).event(job, report)
    assert out.getvalue().splitlines()[0] == (
        "[sweep] job 1 finished (completed) in 1 min 15 s: best val_mae 0.3123 at epoch 3, "
        "test mae 0.3457 (model.dropout=0.2)"
    )


def test_the_device_line_names_the_backend_its_version_and_the_devices():
    from seqexp.run.console import device_line

    gpu = {"type": "GPU", "name": "/physical_device:GPU:0", "device_name": "NVIDIA H100 80GB HBM3"}
    tf_env = {"backend": "tensorflow", "versions": {"tensorflow": "2.21.0"}, "cpus_usable": 16,
              "devices": [{"type": "CPU", "name": "cpu:0"}, gpu], "xla": False}  # fmt: skip
    assert device_line(tf_env) == "Backend: tensorflow 2.21.0 on 1 GPU(s): NVIDIA H100 80GB HBM3"
    jax_env = {"backend": "jax", "build": {"jax": "0.7.2"}, "cpus_usable": 2,
               "devices": [{"type": "CPU", "name": "TFRT_CPU_0"}], "xla": True}  # fmt: skip
    assert device_line(jax_env) == "Backend: jax 0.7.2 on CPU (2 cores), XLA"
