"""tf.distribute on two logical CPU devices, and the trainer.threads / trainer.strategy values.

Devices and thread pools are fixed once per process, so the training check runs in a fresh
Python process with the CPU split into two logical devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from seqexp.config.checks import check
from seqexp.errors import SeqexpError
from seqexp.run.runtime import job_threads, make_strategy
from tests.conftest import compose_train
from tests.test_sweep_helpers import PROJECT_ROOT

SCRIPT = r"""
import csv, json, sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqexp.run.runtime import configure_cpu_devices, make_strategy
from seqexp.run.train import train
from tests.conftest import compose_train

out = Path(sys.argv[1])
configure_cpu_devices(2)
report = {"cpus": len(tf.config.list_logical_devices("CPU"))}

# 1. Same weights, same batches: one device and two mirrored replicas give the same losses.
def fit(strategy):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = keras.Sequential([keras.Input((12, 3)), keras.layers.GRU(8), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.RMSprop(1e-2), loss="mae")
    x = np.random.RandomState(0).randn(128, 12, 3).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((x, x[:, -1, :1] - x[:, 0, :1])).batch(32)
    return model.fit(ds, epochs=3, verbose=0).history["loss"], strategy.num_replicas_in_sync

report["keras_single"], _ = fit(make_strategy(None))
report["keras_mirrored"], report["replicas"] = fit(make_strategy("mirrored", 2))

# 2. The train entrypoint with trainer.strategy=mirrored on the bundled sample.
common = ["experiment=smoke", "trainer.epochs=2", "data.split.train=[0,1000]",
          "trainer.validation_steps=4", "trainer.test_steps=2", "trainer.cpu_devices=2"]
for name, extra in [("single", []), ("mirrored", ["trainer.strategy=mirrored"])]:
    train(compose_train(out / name, *common, *extra))
    with open(out / name / "history.csv") as f:
        report[name] = [float(row["loss"]) for row in csv.DictReader(f)]
print("REPORT" + json.dumps(report))
"""


@pytest.mark.slow
def test_mirrored_on_two_logical_cpus_matches_one_device(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.split("REPORT", 1)[1])
    assert report["cpus"] == 2 and report["replicas"] == 2
    # identical inputs: the all-reduced gradient equals the single-device one
    assert report["keras_mirrored"] == pytest.approx(report["keras_single"], rel=1e-5)

    # the full run (shuffled data, checkpoint, early stopping): per-epoch training loss within
    # 1% (measured: 0.6760 vs 0.6759, 0.5654 vs 0.5669; summation order differs across replicas)
    assert report["mirrored"] == pytest.approx(report["single"], rel=0.01)
    log = (tmp_path / "mirrored" / "train.log").read_text()
    assert "tf.distribute strategy: MirroredStrategy with 2 replica(s) in sync" in log
    metrics = json.loads((tmp_path / "mirrored" / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 2
    assert (tmp_path / "mirrored" / "checkpoints" / "best.keras").exists()


def test_unknown_strategy_is_refused(tmp_path):
    # refused with the config (seqexp.config.checks), whoever trains: the runtime trusts it
    with pytest.raises(SeqexpError, match=r"trainer.strategy=horovod must be one of mirrored, multi_worker"):
        check(compose_train(tmp_path, "trainer.strategy=horovod"))


def test_multi_worker_across_workers_is_refused_before_training(monkeypatch):
    workers = ["127.0.0.1:12345", "127.0.0.1:12346"]
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": 0}})
    )
    with pytest.raises(SeqexpError, match=r"multi_worker over 2 workers.*keras-team/keras#20585"):
        make_strategy("multi_worker")


@pytest.mark.parametrize("bad", ["0", "-2", "many", "1.5", "true"])
def test_bad_thread_setting_is_refused(bad, tmp_path):
    with pytest.raises(SeqexpError, match=rf"trainer.threads={bad} must be one of auto or an integer"):
        check(compose_train(tmp_path, f"trainer.threads={bad}"))


def test_thread_settings():
    assert job_threads(None) is None
    assert job_threads(3) == 3
    assert job_threads("auto") is None  # a single run outside a sweep: TensorFlow's default


def test_a_batch_smaller_than_the_replicas_is_refused():
    from seqexp.run.runtime import check_replicas

    with pytest.raises(SeqexpError, match=r"trainer.batch_size=1 is smaller than the 2 replicas.*mirrored"):
        check_replicas(1, 2, "mirrored")
    check_replicas(2, 2, "mirrored")  # one sample per replica
    check_replicas(3, 2, "mirrored")  # unequal shares: a warning, not a refusal
