"""Run integrity (issue 14): no silent wrong result, no lost progress, no code from a handed-over
folder. Each test is one way a run used to end "completed" with another run's numbers, lose its
progress, or run a command it was handed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from seqexp.atomic import temporary_name
from seqexp.errors import NotThisRun, SeqexpError
from seqexp.run import train as train_module
from seqexp.run.keras_callbacks import RunReporter
from seqexp.run.lock import LOCK, acquire, release
from seqexp.run.train import train
from tests.badinput import run_cli
from tests.conftest import QUIET, TINY_JENA, compose_train, option_values
from tests.data.imdb_files import write_aclimdb, write_imdb_npz


def main(args: list[str], capsys) -> int:
    """`seqexp <args>` in this process, its stderr kept for the test to read (run_cli restores the
    logging handlers Hydra installs, so later tests never write to a closed stream)."""
    code, err = run_cli(args, capsys)
    print(err, file=sys.stderr, end="")
    return code


@pytest.fixture
def tiny(jena_csv):
    return [f"data.path={jena_csv}", *TINY_JENA, "callbacks.early_stopping.enabled=false"]


def interrupted_before_training(run: Path, overrides, monkeypatch) -> None:
    """A run of `overrides` in `run` that Ctrl-C stopped before its first epoch."""

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(train_module, "configure_job", ctrl_c)
        with pytest.raises(KeyboardInterrupt):
            train(compose_train(run, *overrides))
    assert json.loads((run / "metrics.json").read_text())["status"] == "interrupted"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---- silent wrong results --------------------------------------------------------------------


def test_a_run_directory_refuses_another_config_naming_the_differing_keys(
    tmp_path, tiny, monkeypatch, capsys
):
    run = tmp_path / "run"
    interrupted_before_training(run, [*tiny, "model.units=[8]"], monkeypatch)
    recorded = json.loads((run / "identity.json").read_text())
    assert recorded["config"]["model.units"] == [8] and len(recorded["sha256"]) == 64
    before = snapshot(run)

    with pytest.raises(NotThisRun, match=r"model\.units: \[8\] there, \[16\] here"):
        train(compose_train(run, *tiny, "model.units=[16]"))  # in-process, as a search trial runs
    # the same through the CLI, where hydra.run.dir is given: refused before Hydra writes .hydra/
    assert main(["train", *tiny, *QUIET, "model.units=[16]", f"hydra.run.dir={run}"], capsys) == 2
    assert snapshot(run) == before and not (run / ".hydra").exists()


def test_an_interpolated_run_dir_is_resolved_before_hydra_writes(tmp_path, tiny, monkeypatch, capsys):
    """`hydra.run.dir=${oc.env:SCRATCH}/run` (SLURM scripts) meets the same guard: a finished run's
    .hydra/ is not rewritten."""
    run = tmp_path / "scratch" / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("- model.units=[8]\n")
    (run / ".hydra" / "config.yaml").write_text("model:\n  units: [8]\n")
    (run / "metrics.json").write_text(json.dumps({"status": "completed", "best": {"val_loss": 0.1}}))
    before = snapshot(run)
    monkeypatch.setenv("SCRATCH", str(tmp_path / "scratch"))

    assert (
        main(["train", *tiny, *QUIET, "model.units=[16]", "hydra.run.dir=${oc.env:SCRATCH}/run"], capsys) == 2
    )
    assert "already holds a run that ended with status 'completed'" in capsys.readouterr().err
    assert snapshot(run) == before


def test_a_sweep_into_a_sweep_dir_of_other_values_is_refused(tmp_path, monkeypatch, capsys):
    """An interrupted sweep of an older seqexp (no job list, no identity.json) run again into its
    hydra.sweep.dir with other values would resume its job under the new overrides: a job folder
    that cannot be told to be this sweep's is refused by name (seqexp.sweep.runner)."""
    sweep = tmp_path / "sweep"
    (sweep / "0_jena_gru").mkdir(parents=True)
    (sweep / "0_jena_gru" / "metrics.json").write_text(json.dumps({"status": "interrupted"}))
    (sweep / "multirun.yaml").write_text(
        "hydra:\n  overrides:\n    task:\n    - experiment=smoke\n    - data.path=missing.csv\n"
        "    - optimizer.learning_rate=0.01,0.001\n"
    )
    before = snapshot(sweep)
    monkeypatch.setenv("SWEEPS", str(tmp_path))
    args = [
        "train",
        "-m",
        "experiment=smoke",
        "data.path=missing.csv",
        "hydra.sweep.dir=${oc.env:SWEEPS}/sweep",
    ]

    assert main([*args, "optimizer.learning_rate=0.1,0.5"], capsys) == 2
    err = capsys.readouterr().err
    assert f"{sweep / '0_jena_gru'} holds a run without identity.json" in err
    assert snapshot(sweep) == before


def test_fraction_and_row_bounds_are_checked_against_each_other(jena_csv):
    """train=[0, 0.8] ends at row 1440 of 1800, val=[1000, 1400] starts at 1000: 440 training rows
    would be validated on."""
    values = option_values(
        "data", "jena", path=str(jena_csv), lookback=240, step=3, delay=12, batch_size=16,
        split={"train": [0, 0.8], "val": [1000, 1400], "test": [1400, None]},
    )  # fmt: skip
    from seqexp.data.jena import load_jena

    with pytest.raises(SeqexpError, match=r"rows \[0, 1440\].*rows \[1000, 1400\].*they overlap.*440 train"):
        load_jena(**values)


def test_a_callback_monitor_the_run_never_logs_is_refused_before_fit(tmp_path, tiny):
    run = tmp_path / "run"
    with pytest.raises(SeqexpError, match="callbacks.checkpoint.monitor=val_bogus is not logged"):
        train(compose_train(run, *tiny, "callbacks.checkpoint.monitor=val_bogus"))
    assert json.loads((run / "metrics.json").read_text())["status"] == "failed"
    assert not (run / "history.csv").exists() and not (run / "checkpoints" / "best.keras").exists()


def stop_after_epoch(monkeypatch, epoch: int) -> None:
    """Ctrl-C once history.csv holds `epoch` + 1 rows: before the backup of that epoch is written
    (the reporter runs before the backup callback)."""
    original = RunReporter.on_epoch_end

    def then_stop(self, index, logs=None):
        original(self, index, logs)
        if index == epoch:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunReporter, "on_epoch_end", then_stop)


def test_resume_with_history_csv_missing_is_refused_and_keeps_the_best_checkpoint(
    tmp_path, tiny, monkeypatch
):
    run = tmp_path / "run"
    overrides = [*tiny, "trainer.epochs=3"]
    with monkeypatch.context() as patch:
        stop_after_epoch(patch, 1)  # the backup holds epoch 1, history.csv epochs 1-2
        with pytest.raises(KeyboardInterrupt):
            train(compose_train(run, *overrides))
    (run / "history.csv").unlink()
    best = (run / "checkpoints" / "best.keras").read_bytes()
    metrics = (run / "metrics.json").read_text()

    with pytest.raises(SeqexpError, match="backup after epoch 1, but history.csv is missing"):
        train(compose_train(run, *overrides))
    assert (run / "checkpoints" / "best.keras").read_bytes() == best
    assert (run / "metrics.json").read_text() == metrics  # still interrupted, still resumable


def a_live_process() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])


def test_a_locked_run_directory_is_refused_by_train_and_resume(tmp_path, tiny, monkeypatch, capsys):
    run = tmp_path / "run"
    interrupted_before_training(run, tiny, monkeypatch)
    (run / ".hydra").mkdir()
    (run / ".hydra" / "overrides.yaml").write_text("[]\n")
    holder = a_live_process()  # another seqexp, still training here
    try:
        (run / LOCK).write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname()}))
        before = snapshot(run)
        with pytest.raises(NotThisRun, match=f"in use by another seqexp process \\(pid {holder.pid} on"):
            train(compose_train(run, *tiny))
        assert main(["resume", str(run)], capsys) == 2
        assert f"pid {holder.pid}" in capsys.readouterr().err
        assert snapshot(run) == before
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    gone = a_live_process()
    gone.kill()
    gone.wait()
    (run / LOCK).write_text(json.dumps({"pid": gone.pid, "host": socket.gethostname()}))
    acquire(run)
    assert json.loads((run / LOCK).read_text())["pid"] == os.getpid()
    with pytest.raises(NotThisRun):  # a lock of another host is never guessed stale
        other = tmp_path / "other"
        other.mkdir()
        (other / LOCK).write_text(json.dumps({"pid": gone.pid, "host": "another-node"}))
        acquire(other)
    release(run)
    assert not (run / LOCK).exists() and (other / LOCK).exists()


def test_imdb_files_whose_every_review_is_empty_are_refused(tmp_path):
    from seqexp.data.imdb import load_imdb
    from seqexp.data.imdb_raw import load_imdb_raw

    npz = write_imdb_npz(tmp_path / "imdb.npz", [[]] * 6, [0, 1] * 3, [[4, 5]] * 2, [0, 1])
    with pytest.raises(SeqexpError, match="every one of the 6 reviews of x_train is empty"):
        load_imdb(**option_values("data", "imdb", path=str(npz), word_index=None))
    root = write_aclimdb(tmp_path / "raw", train={"neg": ["", " "], "pos": ["\n", ""]}, test={"pos": ["ok"]})
    with pytest.raises(SeqexpError, match="Every one of the 4 review files .* is empty"):
        load_imdb_raw(**option_values("data", "imdb-raw", path=str(root)))


# ---- lost progress -----------------------------------------------------------------------------


def test_a_kill_during_the_test_evaluation_resumes_without_training_again(tmp_path, tiny, monkeypatch):
    run = tmp_path / "run"
    overrides = [*tiny, "trainer.epochs=2"]

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(train_module, "_finish", ctrl_c)  # Ctrl-C once fit has returned
        with pytest.raises(KeyboardInterrupt):
            train(compose_train(run, *overrides))
    record = json.loads((run / "backup" / "training_metadata.json").read_text())
    assert record["epoch"] == 2 and record["trained"] is True  # kept after fit returned
    history, best = (run / "history.csv").read_text(), (run / "checkpoints" / "best.keras").read_bytes()

    train(compose_train(run, *overrides))
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["resumed_after_epoch"] == 2
    assert metrics["epochs_run"] == 2 and metrics["weights"] == "best checkpoint"
    assert (run / "history.csv").read_text() == history  # no epoch trained again
    assert (run / "checkpoints" / "best.keras").read_bytes() == best
    assert not (run / "backup").exists()  # deleted once metrics.json said completed


@pytest.mark.slow  # real processes or several trainings: make test-slow
def test_a_full_disk_ends_with_one_sentence_and_the_run_resumes_once_freed(tmp_path, tiny, capsys):
    run = tmp_path / "run"
    run.mkdir()
    # this process's next history.csv write goes to /dev/full: a real ENOSPC from the kernel (the
    # temp name is removed after the failed write, so the disk is "freed" for the resume)
    temporary_name(run / "history.csv").symlink_to("/dev/full")
    assert main(["train", *tiny, *QUIET, f"hydra.run.dir={run}"], capsys) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err, err[-2000:]
    assert "seqexp: error: Could not write" in err
    assert "the disk is full (No space left on device)" in err
    assert f"`seqexp resume {run}` continues the run" in err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "failed" and metrics["resumable"] is True

    assert main(["resume", str(run)], capsys) == 0, capsys.readouterr().err[-2000:]
    assert json.loads((run / "metrics.json").read_text())["status"] == "completed"


def test_a_read_only_folder_ends_with_one_sentence(tiny, capsys):
    # /sys refuses new entries, even to root
    assert main(["train", *tiny, *QUIET, "hydra.run.dir=/sys/seqexp-integrity-test/run"], capsys) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("seqexp: error: Could not write (/sys/seqexp-integrity-test") and "writable" in err


# ---- security ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "override",
    [
        "+hydra.callbacks.pwn={_target_: os.system, _args_: ['touch {marker}']}",
        "hydra.callbacks.pwn._target_=subprocess.call",
        "data._target_=os.system",
        "+model.extra={inner: {_target_: builtins.exec}}",
        "hydra.searchpath=[file://{marker}]",
    ],
)
def test_a_crafted_run_folder_cannot_run_a_command(tmp_path, override, capsys):
    marker = tmp_path / "pwned"
    run = tmp_path / "handed-over"
    (run / ".hydra").mkdir(parents=True)
    crafted = override.replace("{marker}", str(marker))
    (run / ".hydra" / "overrides.yaml").write_text(json.dumps(["experiment=smoke", crafted]))
    (run / "metrics.json").write_text(json.dumps({"status": "interrupted"}))

    assert main(["resume", str(run)], capsys) == 2
    err = capsys.readouterr().err
    assert "could run code" in err and repr(crafted) in err and "nothing was run" in err
    assert not marker.exists() and sorted(p.name for p in run.iterdir()) == [".hydra", "metrics.json"]


def test_the_hydra_floor_has_the_instantiate_hardening():
    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    hydra = next(Requirement(r) for r in project["project"]["dependencies"] if r.startswith("hydra-core"))
    assert not hydra.specifier.contains("1.3.5") and hydra.specifier.contains("1.3.6")


def test_identity_ignores_where_the_run_lives(tmp_path, tiny):
    """A run moved to another disk, or continued with another thread count, is the same run."""
    from seqexp.run.identity import config_identity, digest

    here = config_identity(compose_train(tmp_path / "a", *tiny))
    moved = config_identity(compose_train(tmp_path / "b", *tiny, "trainer.threads=1", "trainer.verbose=1"))
    assert (
        digest(here) == digest(moved)
        and here["callbacks.checkpoint.filepath"] == "<run_dir>/checkpoints/best.keras"
    )
    assert digest(config_identity(compose_train(tmp_path / "a", *tiny, "data.step=6"))) != digest(here)
