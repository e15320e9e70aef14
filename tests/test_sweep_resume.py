"""Sweeps that survive (seqexp.sweep): a `seqexp train -m` sweep SIGKILLed as a process group and
continued with `seqexp resume <sweep dir>` (or the same command) ends as an uninterrupted one, with
the jobs finished before a kill untouched; a finished sweep grows by new values; each refusal of a
sweep folder says why; off a terminal training prints one line per epoch.

The kills land at deterministic points (a job's metrics.json says finished; a job has logged an
epoch and is still running); where exactly a process dies inside its next few milliseconds does
not change what is asserted. scripts/sweep_kill_check.py kills at random moments, five times."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from seqexp.cli import main
from seqexp.run.identity import digest
from seqexp.run.record import FINISHED
from seqexp.run.resume import METADATA
from seqexp.run.rundir import read_history, read_metrics
from tests.test_sweep_helpers import SEQEXP

SETTINGS = [
    "experiment=smoke",
    "trainer.epochs=2",
    "trainer.steps_per_epoch=2",
    "trainer.validation_steps=2",
    "trainer.test_steps=2",
    "trainer.threads=1",  # the same thread pools in every process and worker: the same sums
    "trainer.verbose=1",  # Keras' bar on a terminal; these runs write to files
    "callbacks.tensorboard.enabled=false",
]
UNITS = [4, 5, 6, 7, 8, 9]


def units(values) -> str:
    return "model.units=" + ",".join(f"[{u}]" for u in values)


def sweep_args(sweep_dir: Path, values=UNITS, *extra: str) -> list[str]:
    return ["train", "-m", *SETTINGS, units(values), *extra, f"hydra.sweep.dir={sweep_dir}"]


def folder(sweep_dir: Path, num: int) -> Path:
    return sweep_dir / f"{num}_jena_gru"


def status(run_dir: Path) -> str | None:
    return (read_metrics(run_dir) or {}).get("status")


# ---- the kill harness (scripts/sweep_kill_check.py uses it too) ------------------------------


def launch(args: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    """`seqexp <args>` in its own process group, stdout and stderr into `log` (not a terminal)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    with log.open("w") as out:
        return subprocess.Popen(
            [str(SEQEXP), *args],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and every worker it started
    except ProcessLookupError:
        pass
    proc.wait()


def wait_for(proc: subprocess.Popen, reached, timeout: float = 600) -> bool:
    """Poll until `reached()` (True) or the process ends (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reached():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    kill_group(proc)
    raise AssertionError(f"not reached in {timeout} s")


def finished(sweep_dir: Path, num: int):
    return lambda: status(folder(sweep_dir, num)) in FINISHED


def mid_job(sweep_dir: Path, num: int):
    """Job `num` has backed up an epoch (its history.csv row is written just before) and is still
    running: killed now, it continues from that backup."""

    def reached() -> bool:
        run = folder(sweep_dir, num)
        try:
            epoch = json.loads((run / "backup" / METADATA).read_text())["epoch"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return epoch >= 1 and status(run) == "running"

    return reached


def files_of_finished_jobs(sweep_dir: Path) -> dict[str, dict[str, tuple[str, int]]]:
    """{job folder: {file: (sha256, mtime_ns)}} of every finished job."""
    out = {}
    for run in sorted(sweep_dir.glob("*_jena_gru")):
        if status(run) in FINISHED:
            out[run.name] = {
                p.relative_to(run).as_posix(): (
                    hashlib.sha256(p.read_bytes()).hexdigest(),
                    p.stat().st_mtime_ns,
                )
                for p in sorted(run.rglob("*"))
                if p.is_file()
            }
    return out


def killed_and_continued(sweep_dir: Path, args: list[str], kill_points, continue_args=None):
    """Run the sweep, SIGKILL its process group at each kill point in turn, continuing it after
    each kill (`continue_args(i)`, default `seqexp resume <sweep dir>`), then once more to the end.
    Returns (the finished jobs' files after each kill, the logs, the last exit code)."""
    snapshots, logs = [], []
    for i, point in enumerate([*kill_points, None]):
        command = args if i == 0 else (continue_args(i) if continue_args else ["resume", str(sweep_dir)])
        logs.append(sweep_dir.parent / f"{sweep_dir.name}.{i}.log")
        proc = launch(command, sweep_dir.parent, logs[-1])
        if point is None:
            code = proc.wait(timeout=900)
            break
        wait_for(proc, point)
        kill_group(proc)
        snapshots.append(files_of_finished_jobs(sweep_dir))
    return snapshots, logs, code


def assert_same_history(a: dict, b: dict, where: str) -> None:
    assert sorted(a) == sorted(b), where
    for key in a:
        assert len(a[key]) == len(b[key]), f"{where}: {key}"
        for x, y in zip(a[key], b[key], strict=True):
            assert abs(x - y) <= 1e-5, f"{where}: {key} {a[key]} != {b[key]}"


def assert_untouched(snapshots: list[dict], sweep_dir: Path) -> None:
    """Every job finished before a kill has the same bytes and mtimes at the end."""
    now = files_of_finished_jobs(sweep_dir)
    for snapshot in snapshots:
        for name, files in snapshot.items():
            assert now[name] == files, f"{name} changed after it had finished"


# ---- a killed sweep of the basic launcher ------------------------------------------------------


@pytest.fixture(scope="module")
def killed_sweep(tmp_path_factory):
    """The 6-job sweep killed after job 1 finished and while job 3 trains; continued once with the
    same `seqexp train -m` command and then with `seqexp resume`."""
    sweep_dir = tmp_path_factory.mktemp("killed") / "sweep"
    args = sweep_args(sweep_dir)
    points = [finished(sweep_dir, 1), mid_job(sweep_dir, 3)]
    snapshots, logs, code = killed_and_continued(
        sweep_dir, args, points, continue_args=lambda i: args if i == 1 else ["resume", str(sweep_dir)]
    )
    return sweep_dir, snapshots, logs, code


@pytest.mark.slow
def test_a_killed_sweep_continues_to_the_uninterrupted_result(killed_sweep, tmp_path):
    sweep_dir, snapshots, logs, code = killed_sweep
    assert code == 0, logs[-1].read_text()[-3000:]
    jobs = json.loads((sweep_dir / "jobs.json").read_text())["jobs"]
    assert [(j["num"], j["overrides"][-1], j["folder"]) for j in jobs] == [
        (n, f"model.units=[{u}]", f"{n}_jena_gru") for n, u in enumerate(UNITS)
    ]
    assert sorted(p.name for p in sweep_dir.glob("*_jena_gru")) == [f"{n}_jena_gru" for n in range(6)]
    assert all(status(folder(sweep_dir, n)) == "completed" for n in range(6))
    assert {"0_jena_gru", "1_jena_gru"} <= set(snapshots[0])  # job 1 had finished at the first kill
    # job 3 was killed after its first epoch's backup (or, on a very slow machine, had finished)
    assert "3_jena_gru" in snapshots[1] or read_metrics(folder(sweep_dir, 3))["resumed_after_epoch"] == 1
    assert_untouched(snapshots, sweep_dir)

    # Job 3 (killed while it trained), job 2 (starting at the first kill) and job 0 (a control)
    # against the same jobs of a sweep run without interruption (in a subprocess: an in-process
    # TensorFlow import leaves absl's log handler on pytest's stream, which Hydra's later
    # in-process logging setup would close).
    reference = tmp_path / "reference"
    compared = [UNITS[n] for n in (0, 2, 3)]
    code = launch(sweep_args(reference, compared), tmp_path, tmp_path / "reference.log").wait(timeout=600)
    assert code == 0, (tmp_path / "reference.log").read_text()[-3000:]
    for ref_num, num in enumerate((0, 2, 3)):
        expected = read_history(folder(reference, ref_num))
        assert_same_history(read_history(folder(sweep_dir, num)), expected, f"job {num}")

    # The summary of every job at the end, and the progress lines.
    assert "6 jobs: 6 completed." in (sweep_dir / "summary.md").read_text()
    last = logs[-1].read_text()
    assert "[sweep] 6 done, 0 running, 0 left of 6 jobs" in last
    first = logs[0].read_text()
    assert "[sweep] 0 done, 0 running, 6 left of 6 jobs; time left: known once a job finishes" in first
    assert "[sweep] job 0 finished (completed)" in first and "best val_loss" in first


@pytest.mark.slow
def test_off_a_terminal_training_prints_one_line_per_epoch(killed_sweep):
    """Keras' bar (trainer.verbose=1) redraws with carriage returns; written to a file it is one
    endless line. Off a terminal each epoch is one line, on stdout and in train.log."""
    sweep_dir, _, logs, _ = killed_sweep
    outputs = [log.read_text() for log in logs]
    assert not any("\r" in out or "\x1b[" in out for out in outputs)
    first = outputs[0]
    for epoch in (1, 2):  # job 0 ran whole in the first process
        assert first.count(f"[seqexp.run.train][INFO] Epoch {epoch}/2: loss ") >= 2
    log = (folder(sweep_dir, 0) / "train.log").read_text()
    lines = [line.split("][INFO] ")[1].split(":")[0] for line in log.splitlines() if "][INFO] Epoch " in line]
    assert lines == ["Epoch 1/2", "Epoch 2/2"]
    assert "\r" not in log


@pytest.mark.slow
def test_a_finished_sweep_grows_by_one_value_training_one_job(killed_sweep, tmp_path):
    sweep_dir = tmp_path / "sweep"
    shutil.copytree(killed_sweep[0], sweep_dir)  # copy2: the same bytes and mtimes
    before = files_of_finished_jobs(sweep_dir)
    assert len(before) == 6
    log = tmp_path / "grow.log"
    code = launch(sweep_args(sweep_dir, [*UNITS, 10]), tmp_path, log).wait(timeout=600)
    out = log.read_text()
    assert code == 0, out[-3000:]
    assert files_of_finished_jobs(sweep_dir) == {
        **before,
        "6_jena_gru": files_of_finished_jobs(sweep_dir)["6_jena_gru"],
    }
    jobs = json.loads((sweep_dir / "jobs.json").read_text())["jobs"]
    assert [(j["num"], j["overrides"][-1]) for j in jobs][-1] == (6, "model.units=[10]")
    assert len(jobs) == 7
    assert "[sweep] 6 done, 0 running, 1 left of 7 jobs" in out
    assert out.count(" started: ") == 1 and "[sweep] job 6 started: model.units=[10]" in out
    assert "7 jobs: 7 completed." in (sweep_dir / "summary.md").read_text()


# ---- joblib: the remaining jobs run in parallel again ------------------------------------------


@pytest.mark.slow
def test_a_killed_joblib_sweep_resumes_in_parallel(killed_sweep, tmp_path):
    sweep_dir = tmp_path / "joblib"
    values = UNITS[:4]
    args = sweep_args(sweep_dir, values, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    snapshots, logs, code = killed_and_continued(sweep_dir, args, [finished(sweep_dir, 1)])
    resumed = logs[-1].read_text()
    assert code == 0, resumed[-3000:]
    assert "Joblib.Parallel(n_jobs=2" in resumed  # the launcher and its setting replayed
    assert resumed.count("] Joblib.Parallel(") == 1  # one batch: the jobs left run in parallel again
    assert json.loads((sweep_dir / "jobs.json").read_text())["hydra"] == [
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
    ]
    assert all(status(folder(sweep_dir, n)) == "completed" for n in range(4))
    assert "1_jena_gru" in snapshots[0]
    assert_untouched(snapshots, sweep_dir)
    for num in range(4):  # the same as the basic launcher's jobs of the same values
        reference = read_history(folder(killed_sweep[0], num))
        assert_same_history(read_history(folder(sweep_dir, num)), reference, f"joblib job {num}")


# ---- refusals: one paragraph naming the keys, nothing written ----------------------------------


def snapshot(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def listed_sweep(tmp_path):
    """A sweep folder with a job list and two finished jobs (written by hand: no training)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from seqexp.config import CONF_DIR
    from seqexp.run.identity import config_identity, write_identity

    sweep_dir = tmp_path / "sweep"
    jobs = []
    for num, value in enumerate(UNITS[:2]):
        overrides = [*SETTINGS, f"model.units=[{value}]"]
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("train", overrides=overrides, return_hydra_config=True)
        HydraConfig.instance().set_config(cfg)
        with open_dict(cfg):
            del cfg["hydra"]
        identity = config_identity(cfg)
        run = folder(sweep_dir, num)
        run.mkdir(parents=True)
        write_identity(run, identity, overrides)
        (run / "metrics.json").write_text(json.dumps({"status": "completed"}))
        jobs.append(
            {
                "num": num,
                "overrides": overrides,
                "folder": run.name,
                "sha256": digest(identity),
                "config": identity,
            }
        )
    fixed = {o.split("=")[0]: o.split("=", 1)[1] for o in SETTINGS}
    fixed["callbacks.tensorboard.enabled"] = "False"  # as Hydra's override parser gives it back
    record = {"format": 1, "fixed": fixed, "swept": ["model.units"], "hydra": [], "jobs": jobs}
    (sweep_dir / "jobs.json").write_text(json.dumps(record))
    return sweep_dir


def refused(args: list[str], sweep_dir: Path, capsys) -> str:
    before = snapshot(sweep_dir)
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert snapshot(sweep_dir) == before
    assert err.startswith("seqexp: error: ") and err.count("\n") == 1, err
    return err


def test_a_finished_listed_sweep_runs_nothing_again(listed_sweep, capsys):
    before = snapshot(listed_sweep)
    assert main(sweep_args(listed_sweep, UNITS[:2])) == 0
    out = capsys.readouterr().out
    assert "[sweep] 2 done, 0 running, 0 left of 2 jobs" in out
    after = snapshot(listed_sweep)
    assert {k: v for k, v in after.items() if "/" in k} == {k: v for k, v in before.items() if "/" in k}


def test_a_sweep_of_another_key_is_refused(listed_sweep, capsys):
    err = refused(
        [*sweep_args(listed_sweep, UNITS[:2]), "optimizer.learning_rate=1e-3,3e-4"], listed_sweep, capsys
    )
    assert "it sweeps optimizer.learning_rate, which this sweep does not vary" in err
    assert "grows only by more values of its swept keys (model.units)" in err


def test_a_sweep_with_another_fixed_value_is_refused(listed_sweep, capsys):
    args = [a.replace("trainer.epochs=2", "trainer.epochs=3") for a in sweep_args(listed_sweep, UNITS[:2])]
    err = refused(args, listed_sweep, capsys)
    assert "trainer.epochs is 2 there, 3 here" in err


def test_a_sweep_that_leaves_out_a_swept_key_is_refused(listed_sweep, capsys):
    args = [a for a in sweep_args(listed_sweep) if not a.startswith("model.units")]
    err = refused(args, listed_sweep, capsys)
    assert "it leaves out model.units, which this sweep varies" in err


def test_a_config_changed_outside_the_swept_keys_is_refused(listed_sweep, capsys):
    """The job list says how job 0 was composed; the YAML now composes it otherwise."""
    path = listed_sweep / "jobs.json"
    record = json.loads(path.read_text())
    record["jobs"][0]["config"]["optimizer.learning_rate"] = 0.5  # as if the default had been 0.5
    record["jobs"][0]["sha256"] = digest(record["jobs"][0]["config"])
    path.write_text(json.dumps(record))
    err = refused(sweep_args(listed_sweep, UNITS[:2]), listed_sweep, capsys)
    assert "job 0 (" in err and "now composes another config" in err
    assert "optimizer.learning_rate: 0.5 there, 0.001 here" in err


def test_a_job_folder_of_another_config_is_refused_by_name(listed_sweep, capsys):
    identity = json.loads((folder(listed_sweep, 1) / "identity.json").read_text())
    identity["config"]["trainer.seed"] = 7
    identity["sha256"] = digest(identity["config"])
    (folder(listed_sweep, 1) / "identity.json").write_text(json.dumps(identity))
    err = refused(sweep_args(listed_sweep, UNITS[:2]), listed_sweep, capsys)
    assert (
        f"{folder(listed_sweep, 1)} holds a run of another config" in err and "trainer.seed: 7 there" in err
    )


def test_another_subdir_is_refused(listed_sweep, capsys):
    err = refused(
        [*sweep_args(listed_sweep, UNITS[:2]), "hydra.sweep.subdir=job${hydra.job.num}"], listed_sweep, capsys
    )
    assert "job 0's folder is 0_jena_gru, but hydra.sweep.subdir now names it job0" in err


def test_a_damaged_job_list_is_refused(listed_sweep, capsys):
    (listed_sweep / "jobs.json").write_text('{"format": 1, "jobs": [')
    err = refused(sweep_args(listed_sweep, UNITS[:2]), listed_sweep, capsys)
    assert "jobs.json is damaged or was edited by hand: it is not valid JSON (cut short)" in err


def test_resume_refuses_a_job_list_that_names_code(listed_sweep, capsys):
    path = listed_sweep / "jobs.json"
    record = json.loads(path.read_text())
    record["hydra"] = ["hydra/launcher=joblib", "hydra.launcher._target_=os.system"]
    path.write_text(json.dumps(record))
    err = refused(["resume", str(listed_sweep)], listed_sweep, capsys)
    assert "asks to replay Hydra setting(s) hydra.launcher._target_=os.system" in err


def test_a_finished_folder_without_identity_is_refused(tmp_path, capsys):
    """A sweep folder of an older seqexp (no job list, no identity.json): its finished job cannot
    be told to be this sweep's, so nothing runs over it."""
    sweep_dir = tmp_path / "sweep"
    folder(sweep_dir, 0).mkdir(parents=True)
    (folder(sweep_dir, 0) / "metrics.json").write_text(json.dumps({"status": "completed"}))
    err = refused(sweep_args(sweep_dir, UNITS[:2]), sweep_dir, capsys)
    assert f"{folder(sweep_dir, 0)} holds a run without identity.json" in err


def test_a_batch_spans_the_jobs_to_run_and_keeps_their_numbers():
    """Launchers number a batch's jobs initial_job_idx + i: the finished jobs between the jobs to
    run stay in the batch (as no-ops), so a killed joblib sweep resumes all its jobs in parallel."""
    from seqexp.sweep.joblist import Job
    from seqexp.sweep.runner import spans

    jobs = [Job(n, [f"model.units=[{n}]"], f"{n}_jena_gru", "", {}) for n in range(6)]

    def nums(todo, size=None):
        return [[job.num for job in span] for span in spans(jobs, todo, size)]

    assert nums({0, 2, 3}) == [[0, 1, 2, 3]]
    assert nums({0, 2, 3}, 2) == [[0, 1], [2, 3]]
    assert nums({0, 3, 5}, 2) == [[0, 1], [3, 4], [5]]
    assert nums({5}) == [[5]] and nums(set()) == []


def test_resume_of_an_older_sweep_says_what_to_run(tmp_path, capsys):
    sweep_dir = tmp_path / "old"
    sweep_dir.mkdir()
    (sweep_dir / "multirun.yaml").write_text("hydra: {}\n")
    err = refused(["resume", str(sweep_dir)], sweep_dir, capsys)
    assert f"{sweep_dir} is a sweep of an older seqexp: it has no job list (jobs.json)" in err
    assert f"again with hydra.sweep.dir={sweep_dir}" in err
