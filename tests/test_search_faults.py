"""`seqexp search` and `seqexp resume <search dir>` under mistakes and faults: a grid run to its
end, bad ranges and storage folders, a read-only search dir, a full disk in a trial, a torn
study.journal, a search.yaml that names code or is torn, and a resume beside a live worker
(two processes). Each ends with one `seqexp: error:` paragraph or goes on with nothing lost."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import MISSING, fields
from pathlib import Path

import optuna
import pytest
import yaml

from seqexp.cli import main
from seqexp.errors import SeqexpError
from seqexp.search import liveness
from seqexp.search.config import Search, Slurm, open_storage
from tests.test_search import load, metrics, preset, search_args, wait_for
from tests.test_sweep_helpers import SEQEXP

GRID = ["~hparams_search.params", '+hparams_search.params={model.units: "choice(8, 16)"}']


def test_search_defaults_live_in_the_yaml_only():
    for cls in (Search, Slurm):
        assert all(f.default is MISSING and f.default_factory is MISSING for f in fields(cls))
    node = preset()
    del node["seed"], node["slurm"]["gpus_per_node"]
    with pytest.raises(SeqexpError, match="hparams_search.seed is missing.*slurm.gpus_per_node is missing"):
        Search.from_node(node)


@pytest.mark.parametrize(
    "params, expected",
    [
        ("{model.dropout: 'interval(0.5, 0.1)'}", "its low end 0.5 is above its high end 0.1"),
        ("{model.units: 'int(interval(64, 8))'}", "its low end 64 is above its high end 8"),
        ("{model.units: 'range(64, 8)'}", "range(64, 8) holds no value"),
        ("{optimizer.learning_rate: 'tag(log, interval(0.0, 0.1))'}", "is not a valid range"),
    ],
)
def test_a_bad_range_is_one_paragraph(params, expected, tmp_path, capsys):
    root = tmp_path / "s"
    args = ["search", "hparams_search=recurrent_tpe", "~hparams_search.params"]
    assert main([*args, f"+hparams_search.params={params}", f"hydra.sweep.dir={root}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqexp: error: ") and expected in err and "Traceback" not in err
    assert not root.exists()


def test_a_storage_in_a_missing_folder_is_refused(tmp_path, capsys):
    root, storage = tmp_path / "s", tmp_path / "nowhere" / "study.journal"
    args = ["search", "hparams_search=recurrent_tpe", f"hydra.sweep.dir={root}"]
    assert main([*args, f"hparams_search.storage={storage}"]) == 2
    err = capsys.readouterr().err
    assert f"the folder {storage.parent} does not exist" in err and "Traceback" not in err
    assert main([*args, f"hparams_search.storage=sqlite:///{storage.parent}/optuna.db"]) == 2
    assert f"the folder {storage.parent} does not exist" in capsys.readouterr().err
    assert not root.exists() and not storage.parent.exists()
    storage.parent.mkdir()  # a folder where the journal file belongs
    assert main([*args, f"hparams_search.storage={storage.parent}"]) == 2
    err = capsys.readouterr().err
    assert f"hparams_search.storage={storage.parent} is a folder; give the path of a journal file" in err
    assert "Traceback" not in err and not root.exists() and not any(storage.parent.iterdir())


def test_a_read_only_search_dir_is_one_sentence(tmp_path, capsys, monkeypatch):
    root = tmp_path / "ro" / "s"
    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):  # tests may run as root, where chmod denies nothing
        if self == root:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main(["search", "hparams_search=recurrent_tpe", f"hydra.sweep.dir={root}"]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == f"seqexp: error: Could not write ({root}): the file system is read-only (Read-only file system).\n"
    )


def test_a_torn_journal_is_cut_back_to_its_last_record(tmp_path, capsys):
    path = tmp_path / "study.journal"
    study = optuna.create_study(study_name="s", storage=open_storage(str(path)))
    study.enqueue_trial({"x": 1.0})
    trial = study.ask()
    trial.suggest_float("x", 0, 2)
    study.tell(trial, 1.0)
    whole = path.read_bytes()
    torn = b'{"op_code":4,"worker_id":"w","trial_id":1,"par'  # power lost mid-append
    path.write_bytes(whole + torn)

    storage = open_storage(str(path))  # every command opens the study through here
    assert f"ended in a torn record ({len(torn)} bytes" in capsys.readouterr().err
    assert path.read_bytes() == whole
    [kept] = tmp_path.glob("study.journal.torn-*")
    assert kept.read_bytes() == torn
    study = optuna.load_study(study_name="s", storage=storage)
    trial = study.ask()  # the next append starts on a line of its own
    trial.suggest_float("x", 0, 2)
    study.tell(trial, 0.5)
    assert all(json.loads(line) for line in path.read_text().splitlines())
    again = optuna.load_study(study_name="s", storage=open_storage(str(path)))
    assert [t.value for t in again.trials] == [1.0, 0.5]
    assert capsys.readouterr().err == ""  # a whole journal is left alone

    whole = path.read_bytes()  # a last line of zeros ending in a newline (a power loss on ext4)
    path.write_bytes(whole + bytes(40) + b"\n")
    assert optuna.load_study(study_name="s", storage=open_storage(str(path))).trials[-1].value == 0.5
    assert path.read_bytes() == whole and "ended in a torn record (41 bytes" in capsys.readouterr().err
    assert sorted(p.read_bytes() for p in tmp_path.glob("study.journal.torn-*")) == [bytes(40) + b"\n", torn]

    lines = path.read_bytes().splitlines(keepends=True)  # a damaged record before the last one
    path.write_bytes(b"".join([*lines[:2], b"garbage\n", *lines[2:]]))
    with pytest.raises(SeqexpError, match=r"damaged at line 3 of \d+ .*cannot be repaired"):
        open_storage(str(path))


def write_search_dir(root: Path, **changes) -> Path:
    root.mkdir(parents=True)
    state = {
        "overrides": ["model=lstm_dropout"],
        "search": {**preset(study_name="s", params={"model.units": "choice(8, 16)"}), **changes},
        "storage": str(root / "study.journal"),
    }
    (root / "search.yaml").write_text(yaml.safe_dump(state))
    return root


def test_a_handed_over_search_dir_runs_no_code(tmp_path, capsys):
    root = write_search_dir(tmp_path / "a")
    state = yaml.safe_load((root / "search.yaml").read_text())
    state["overrides"].append("+callbacks.x._target_=os.system")
    (root / "search.yaml").write_text(yaml.safe_dump(state))
    assert main(["resume", str(root)]) == 2
    err = capsys.readouterr().err
    assert "could run code" in err and "imports 'os.system'" in err and "nothing was run" in err
    assert not (root / "study.journal").exists()

    params = {"model.units": "choice(8, 16)", "+callbacks.x": "choice({_target_: os.system})"}
    root = write_search_dir(tmp_path / "b", params=params)
    assert main(["resume", str(root)]) == 2
    assert "imports 'os.system'" in capsys.readouterr().err


def test_a_search_folder_without_its_search_yaml_is_named_as_a_search(tmp_path, capsys):
    root = tmp_path / "s"
    root.mkdir()
    (root / "study.journal").write_text("")  # what is left once search.yaml is deleted
    assert main(["resume", str(root)]) == 2
    err = capsys.readouterr().err
    assert f"seqexp: error: {root} holds a search's study (study.journal) but not its search.yaml" in err
    assert "overrides.yaml" not in err and "Traceback" not in err
    assert sorted(p.name for p in root.iterdir()) == ["study.journal"]  # nothing written


def test_a_torn_search_yaml_is_named(tmp_path, capsys):
    root = tmp_path / "s"
    root.mkdir()
    (root / "search.yaml").write_text("overrides: [model=gru\nsearch: {n_trials: 3")
    assert main(["resume", str(root)]) == 2
    err = capsys.readouterr().err
    assert f"{root / 'search.yaml'} is damaged or was edited by hand: it is not valid YAML" in err
    assert "Traceback" not in err


@pytest.mark.slow  # real processes or several trainings: make test-slow
def test_grid_search_runs_every_combination_once(jena_csv, tmp_path, capsys):
    root = tmp_path / "grid"
    args = search_args(jena_csv, root, *GRID, "hparams_search.sampler=grid", "hparams_search.n_trials=2")
    assert main(args) == 0, capsys.readouterr().err[-3000:]
    trials = load(root).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 2
    assert sorted(t.params["model.units"] for t in trials) == [8, 16]
    assert yaml.safe_load((root / "optimization_results.yaml").read_text())["trials"] == {"complete": 2}
    assert len((root / "summary.csv").read_text().splitlines()) == 3
    capsys.readouterr()

    # past the grid: nothing re-trained; the setting has its start name (the bare one reads the same)
    for setting in ("hparams_search.n_trials=4", "n_trials=4"):
        assert main(["resume", str(root), setting]) == 2
        err = capsys.readouterr().err
        assert "seqexp: error: hparams_search.n_trials=4 is more than the 2 combinations of the grid" in err
    assert main(["resume", str(root), "hparams_search.sampler=tpe"]) == 2
    err = capsys.readouterr().err
    assert (
        "hparams_search.sampler=tpe cannot change here; give hparams_search.n_trials=N or "
        "hparams_search.n_jobs=N" in err
    )
    assert len(load(root).trials) == 2
    assert yaml.safe_load((root / "search.yaml").read_text())["search"]["n_trials"] == 2


@pytest.mark.slow  # real processes or several trainings: make test-slow
def test_a_full_disk_leaves_the_trial_resumable(jena_csv, tmp_path, capsys, monkeypatch):
    import seqexp.run.train as train_module
    from seqexp.run.record import RunRecord, write_record

    real_train = train_module.train

    def full_disk(cfg, **kwargs):  # what train leaves behind when a write finds the disk full
        run_dir = Path(cfg.paths.run_dir)
        write_record(run_dir, RunRecord(status="failed", reason="OSError: disk full", resumable=True))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(run_dir / "history.csv"))

    monkeypatch.setattr(train_module, "train", full_disk)
    root = tmp_path / "s"
    assert main(search_args(jena_csv, root, *GRID, "hparams_search.n_trials=1")) == 1
    err = capsys.readouterr().err
    assert "seqexp: error: Trial 0: Could not write" in err and "the disk is full" in err
    assert f"`seqexp resume {root}` continues the search" in err and "Traceback" not in err
    [trial] = load(root).trials
    assert trial.state.name == "RUNNING"  # not FAIL: the trial is not at fault

    monkeypatch.setattr(train_module, "train", real_train)  # space freed
    assert main(["resume", str(root)]) == 0, capsys.readouterr().err[-3000:]
    assert "0 trial(s) ended and kept, 1 to resume (0)" in capsys.readouterr().err
    [trial] = load(root).trials
    assert trial.state.name == "COMPLETE"
    assert metrics(root / trial.user_attrs["run_dir"])["status"] == "completed"


def test_liveness_rule(tmp_path):
    host = socket.gethostname()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        now = time.time()

        def alive(pid, host, beat, at):
            path = liveness.heartbeat_path(tmp_path, f"{host}:{pid}")
            path.parent.mkdir(exist_ok=True)
            path.write_text(json.dumps({"pid": pid, "host": host, "time": beat, "trials": [0]}))
            return liveness.is_alive(tmp_path, f"{host}:{pid}", now=at)

        stale = now - liveness.STALE - 1
        assert alive(sleeper.pid, host, now, now)
        assert not alive(dead.pid, host, now, now)  # SIGKILLed: its heartbeat file is left
        assert not alive(sleeper.pid, host, stale, now)  # the pid reused, or the worker hung
        assert alive(1234, "elsewhere", now, now)  # another machine: the heartbeat's age alone
        assert not alive(1234, "elsewhere", stale, now)
        assert not liveness.is_alive(tmp_path, f"{host}:99999999")  # no heartbeat at all
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.slow  # real processes or several trainings: make test-slow
def test_resume_beside_a_live_worker_leaves_its_trial_alone(jena_csv, tmp_path, capsys):
    root = tmp_path / "live"
    args = search_args(
        jena_csv,
        root,
        *GRID,
        "hparams_search.n_trials=1",
        "trainer.epochs=100000",  # trains until it is stopped below
        "callbacks.early_stopping.enabled=false",
        "callbacks.checkpoint.enabled=false",
    )
    log = tmp_path / "worker.err"  # a file, not a pipe: a pipe nobody reads fills and blocks it
    with log.open("w") as sink:
        worker = subprocess.Popen(
            [str(SEQEXP), *args], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=sink, start_new_session=True
        )
    try:

        def training():
            runs = list(root.glob("0_*"))
            return bool(runs) and (runs[0] / "history.csv").exists() and (root / "workers").exists()

        wait_for(training)
        [trial] = load(root).trials
        assert trial.state.name == "RUNNING"
        name = trial.user_attrs["worker"]
        assert name == f"{socket.gethostname()}:{worker.pid}"
        beat = json.loads(liveness.heartbeat_path(root, name).read_text())
        assert beat["pid"] == worker.pid and beat["trials"] == [0]

        assert main(["resume", str(root)]) == 0
        err = capsys.readouterr().err
        assert f"0 to resume (none), 0 to start; left to their live workers: 0 ({name})" in err
        [trial] = load(root).trials
        assert trial.state.name == "RUNNING" and trial.user_attrs["worker"] == name
        assert worker.poll() is None  # the live worker trains on
    finally:
        os.killpg(worker.pid, signal.SIGINT)
        worker.wait(timeout=300)
    err = log.read_text()
    assert worker.returncode == 130, err[-3000:]
    assert "Traceback" not in err
    [trial] = load(root).trials
    assert trial.state.name == "RUNNING"  # interrupted: resumable, never told FAIL
    run = root / trial.user_attrs["run_dir"]
    assert (run / "train.log").read_text().count("Composed config:") == 1  # trained by one process
    assert metrics(run)["status"] == "interrupted"
    assert not liveness.heartbeat_path(root, name).exists()  # an ended worker's heartbeat goes


def test_slurm_workers_sharing_a_sqlite_database_are_warned_about(capsys):
    from omegaconf import OmegaConf

    from seqexp.search.driver import warn_shared_sqlite

    logger = {"name": "mlflow", "tracking_uri": None, "experiment": "x", "run_name": None}
    cfg = OmegaConf.create({"logger": logger, "paths": {"output_dir": "/shared/out"}})
    search = Search.from_node(preset(launcher="slurm", storage="sqlite:////shared/optuna.db"))
    warn_shared_sqlite(cfg, search)
    err = capsys.readouterr().err
    assert "hparams_search.storage=sqlite:////shared/optuna.db is a SQLite database" in err
    assert "SQLite store /shared/out/mlflow/mlflow.db" in err and "logger.tracking_uri=http://" in err
    warn_shared_sqlite(cfg, Search.from_node(preset(launcher="local", storage="sqlite:////x.db")))
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "ended, trains",
    [
        ({"status": "failed", "reason": "nan loss: the loss became nan at epoch 2"}, False),
        ({"status": "completed", "monitor": "val_loss", "best": {"val_loss": 0.25}}, False),
        ({"status": "failed", "reason": "OSError: disk full", "resumable": True}, True),
        ({"status": "interrupted"}, True),
    ],
)
def test_an_adopted_trial_trains_again_only_if_its_run_may_continue(tmp_path, monkeypatch, ended, trains):
    import seqexp.run.train as train_module
    from seqexp.run.record import RunRecord, write_record
    from seqexp.search.trial import compose, run_trial

    class Trial:
        number = 0

        def set_user_attr(self, key, value):
            pass

    overrides = ["model=lstm_dropout", "model.units=8"]
    _, _, run_dir = compose(overrides, 0, tmp_path)
    write_record(run_dir, RunRecord.model_validate(ended))
    called = []
    monkeypatch.setattr(train_module, "train", lambda cfg, **kwargs: called.append(cfg) or 0.5)
    if ended["status"] == "failed" and not trains:
        with pytest.raises(SeqexpError, match="nan loss"):
            run_trial(Trial(), overrides, tmp_path, "median", None)
    else:
        value = run_trial(Trial(), overrides, tmp_path, "median", None)
        assert value == (0.5 if trains else 0.25)
    assert bool(called) == trains


def test_a_search_into_a_run_dir_is_refused(tmp_path, capsys):
    run = hand_made_run_dir(tmp_path / "run")
    assert main(["search", "hparams_search=recurrent_tpe", f"hydra.sweep.dir={run}"]) == 2
    err = capsys.readouterr().err
    assert f"hydra.sweep.dir={run} holds a run" in err and "Choose another hydra.sweep.dir" in err
    assert sorted(p.name for p in run.iterdir()) == ["train.log"]


def hand_made_run_dir(run: Path) -> Path:
    run.mkdir(parents=True)
    (run / "train.log").write_text("a run's log\n")
    return run
