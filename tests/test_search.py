"""`seqexp search`: the search space in Hydra's sweep syntax, the settings check, seeded samplers
(no TensorFlow, milliseconds); then real searches in subprocesses on a real Optuna journal:
pruning with a SIGKILL of the whole search and `seqexp resume`, two workers on one study, and
SLURM workers through submitit's local executor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from seqexp.cli import main
from seqexp.errors import SeqexpError
from seqexp.search.config import Search, make_sampler
from seqexp.search.space import grid, parse, suggest
from tests.conftest import QUIET, TINY_JENA
from tests.test_sweep_helpers import SEQEXP, assert_png, assert_rows_match_metrics, summary_rows

SPACE = {
    "model.dropout": "interval(0.0, 0.5)",
    "optimizer.learning_rate": "tag(log, interval(1e-4, 1e-2))",
    "model.units": "choice(16, 32, 64)",
    "data.step": "int(interval(2, 6))",
    "data.lookback": "range(120, 241, 60)",
}


def test_sweep_syntax_becomes_optuna_distributions():
    space = parse(SPACE)
    assert space == {
        "model.dropout": FloatDistribution(0.0, 0.5),
        "optimizer.learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
        "model.units": CategoricalDistribution((16, 32, 64)),
        "data.step": IntDistribution(2, 6),
        "data.lookback": IntDistribution(120, 240, step=60),
    }
    assert parse({"model.units": "choice([8],[16,8])"})["model.units"].choices == ("[8]", "[16,8]")
    assert grid(parse({"model.units": "choice(8, 16)", "data.step": "range(3, 7, 3)"})) == {
        "model.units": [8, 16],
        "data.step": [3, 6],
    }
    with pytest.raises(SeqexpError, match=r"params.model.dropout=0.3 is not a search space"):
        parse({"model.dropout": "0.3"})
    with pytest.raises(SeqexpError, match="sampler=grid needs finitely many values"):
        grid(space)


def preset(**values) -> dict:
    """conf/hparams_search/recurrent_tpe.yaml (where every default lives) with `values` on top."""
    from seqexp.config import CONF_DIR

    node = yaml.safe_load((CONF_DIR / "hparams_search" / "recurrent_tpe.yaml").read_text())
    return {**node, "seed": 0, **values}


def test_bad_search_settings_are_named_at_once():
    node = preset(study_name="s", params=SPACE, pruner="asha", n_trials=0, samplr="tpe")
    with pytest.raises(SeqexpError) as err:
        Search.from_node(node)
    message = str(err.value)
    assert "hparams_search.samplr is not a search setting" in message
    assert "hparams_search.pruner=asha is not one of median, hyperband, successive_halving, none" in message
    assert "hparams_search.n_trials=0 must be an integer >= 1" in message


@pytest.mark.parametrize("sampler", ["tpe", "random", "cmaes", "qmc"])
def test_a_fixed_seed_gives_the_same_trials(sampler):
    space = parse(SPACE)

    def trials(seed):
        search = Search.from_node(preset(params=SPACE, sampler=sampler, seed=seed, startup_trials=2))
        study = optuna.create_study(sampler=make_sampler(search, space))
        found = []
        for _ in range(4):
            trial = study.ask()
            found.append(suggest(trial, space))
            study.tell(trial, float(len(found)))
        return found

    assert trials(3) == trials(3)
    assert trials(3) != trials(4)
    assert all(o.startswith(tuple(SPACE)) for o in trials(3)[0])


def test_results_name_the_best_trial_and_its_run_directory():
    """optimization_results.yaml (the summary's "Best Optuna trial"): counts by state, and the
    best finished trial with the run folder its worker recorded."""
    from seqexp.search.report import results

    study = optuna.create_study(direction="maximize", study_name="s")
    assert results(study) == {"name": "optuna", "study_name": "s", "direction": "maximize", "trials": {}}
    for value, run in ((0.5, "0_jena_gru"), (0.9, "1_jena_gru"), (0.2, "2_jena_gru")):
        trial = study.ask({"x": FloatDistribution(0, 1)})
        trial.set_user_attr("run_dir", run)
        study.tell(trial, value)
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    found = results(study)
    assert found["trials"] == {"complete": 3, "fail": 1}
    assert (found["best_trial"], found["best_value"], found["best_run"]) == (1, 0.9, "1_jena_gru")
    assert set(found["best_params"]) == {"x"}


def test_train_refuses_a_search_and_search_needs_one(capsys):
    assert main(["train", "hparams_search=recurrent_tpe", "model=lstm_dropout"]) == 2
    assert "`seqexp search hparams_search=recurrent_tpe model=lstm_dropout`" in capsys.readouterr().err
    assert main(["search", "model=lstm_dropout"]) == 2
    assert "seqexp search needs hparams_search=<name>" in capsys.readouterr().err
    assert main(["search", "hparams_search=recurrent_tpe", "hparams_search.pruner=asha"]) == 2
    assert "hparams_search.pruner=asha is not one of" in capsys.readouterr().err


# ---- real searches ----------------------------------------------------------------------------


def search_args(jena_csv: Path, root: Path, *settings: str) -> list[str]:
    return [
        "search",
        "hparams_search=recurrent_tpe",
        "model=lstm_dropout",
        f"data.path={jena_csv}",
        *TINY_JENA,
        *QUIET,
        f"hydra.sweep.dir={root}",
        *settings,
    ]


def start(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [str(SEQEXP), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(process: subprocess.Popen, timeout=600) -> tuple[int, str]:
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


def load(root: Path) -> optuna.Study:
    from seqexp.search.config import open_storage

    state = yaml.safe_load((root / "search.yaml").read_text())
    return optuna.load_study(study_name=state["search"]["study_name"], storage=open_storage(state["storage"]))


def metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


def wait_for(condition, timeout=300):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


@pytest.mark.slow
def test_pruned_search_killed_and_resumed_ends_with_exactly_its_trials(jena_csv, tmp_path):
    root = tmp_path / "search"
    args = search_args(
        jena_csv,
        root,
        "trainer.epochs=3",
        "callbacks.early_stopping.enabled=false",
        "hparams_search.pruner=hyperband",
        "hparams_search.n_trials=16",
    )
    search = start(*args, cwd=tmp_path)

    def a_trial_has_a_backup():  # after >= 3 trials, one mid-training with an epoch backed up
        ended = [
            r
            for r in root.glob("*_jena_lstm_dropout")
            if (r / "metrics.json").exists() and metrics(r)["status"] != "running"
        ]
        return len(ended) >= 3 and any(
            metrics(r)["status"] == "running" and (r / "backup" / "training_metadata.json").exists()
            for r in root.glob("*_jena_lstm_dropout")
            if (r / "metrics.json").exists()
        )

    wait_for(a_trial_has_a_backup)
    os.killpg(search.pid, signal.SIGKILL)  # the whole search, no chance to record anything
    search.wait()
    before = load(root).trials
    killed = [t for t in before if t.state == optuna.trial.TrialState.RUNNING]
    assert len(killed) == 1 and len(before) < 16
    killed_run = root / killed[0].user_attrs["run_dir"]
    ended_before = {t.number: t.state for t in before if t.state.is_finished()}
    mtimes = {
        t.number: (root / t.user_attrs["run_dir"] / "metrics.json").stat().st_mtime_ns
        for t in before
        if t.state.is_finished()
    }

    code, err = finish(start("resume", str(root), cwd=tmp_path))
    assert code == 0, err[-3000:]
    assert f"to resume ({killed[0].number})" in err
    trials = load(root).trials
    states = [t.state.name for t in trials]
    assert len(trials) == 16 and set(states) <= {"COMPLETE", "PRUNED"}, states
    assert "PRUNED" in states and "COMPLETE" in states
    for number, state in ended_before.items():  # kept, not trained again
        assert trials[number].state == state
        run = root / trials[number].user_attrs["run_dir"]
        assert (run / "metrics.json").stat().st_mtime_ns == mtimes[number]
    resumed = metrics(killed_run)
    assert resumed["status"] in ("completed", "pruned") and resumed["resumed_after_epoch"] >= 1
    runs = sorted(root.glob("*_jena_lstm_dropout"))
    assert len(runs) == 16 and {t.user_attrs["run_dir"] for t in trials} == {r.name for r in runs}
    for trial in trials:
        run = root / trial.user_attrs["run_dir"]
        report = metrics(run)
        history = (run / "history.csv").read_text().splitlines()[1:]
        assert (run / "loss.png").exists()
        if trial.state.name == "PRUNED":  # pruned after an epoch: its history and curves kept
            assert report["status"] == "pruned" and report["pruned_epoch"] == len(history) <= 3
            assert f"after epoch {report['pruned_epoch']}" in report["reason"]
            assert max(trial.intermediate_values) == report["pruned_epoch"]
        else:
            assert report["status"] == "completed" and len(history) == 3
            assert trial.value == report["best"]["val_loss"]
    rows = summary_rows(root)
    assert len(rows) == 16
    assert_rows_match_metrics(root, rows)
    best = yaml.safe_load((root / "optimization_results.yaml").read_text())
    assert best["best_run"] == rows[0]["job"] and best["trials"]["complete"] + best["trials"]["pruned"] == 16
    assert f"run {root / best['best_run']}" in err
    for name in (
        "comparison",
        "optimization_history",
        "intermediate_values",
        "param_importances",
        "parallel_coordinate",
    ):
        assert_png(root / f"{name}.png")

    # extend the finished search: 2 more trials, nothing trained again
    code, err = finish(start("resume", str(root), "hparams_search.n_trials=18", cwd=tmp_path))
    assert code == 0, err[-3000:]
    assert "16 trial(s) ended and kept, 0 to resume (none), 2 to start" in err
    assert len(load(root).trials) == 18 and len(summary_rows(root)) == 18


@pytest.mark.slow
def test_two_workers_on_one_study_run_each_trial_once(jena_csv, tmp_path):
    root = tmp_path / "shared"
    first = start(*search_args(jena_csv, root, "hparams_search.n_trials=6"), cwd=tmp_path)
    wait_for(lambda: (root / "search.yaml").exists())
    second = start("search", "--join", str(root), cwd=tmp_path)
    for process in (first, second):
        code, err = finish(process)
        assert code == 0, err[-3000:]
    trials = load(root).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 6
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both workers trained trials
    runs = sorted(root.glob("*_jena_lstm_dropout"))
    assert sorted(t.user_attrs["run_dir"] for t in trials) == [r.name for r in runs]
    assert len(runs) == 6
    for trial in trials:  # each trial trained once: one training log header per run
        log = (root / trial.user_attrs["run_dir"] / "train.log").read_text()
        assert log.count("Composed config:") == 1
        assert trial.value == metrics(root / trial.user_attrs["run_dir"])["best"]["val_loss"]
    rows = summary_rows(root)
    assert len(rows) == 6
    assert_rows_match_metrics(root, rows)


@pytest.mark.slow
def test_slurm_workers_through_submitit_local(jena_csv, tmp_path):
    root = tmp_path / "slurm"
    args = search_args(
        jena_csv,
        root,
        "hparams_search.n_trials=3",
        "hparams_search.n_jobs=2",
        "hparams_search.launcher=submitit_local",
        "hparams_search.slurm.cpus_per_task=1",
        "hparams_search.slurm.timeout_min=10",
    )
    code, err = finish(start(*args, cwd=tmp_path))
    assert code == 0, err[-3000:]
    assert "submitted 2 worker(s) (local)" in err
    trials = load(root).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3
    assert len(list((root / ".submitit").glob("*/*_result.pkl"))) == 2  # submitit's own records
    firsts = {}
    for trial in trials:  # cpus_per_task sizes each worker's thread pools
        run = root / trial.user_attrs["run_dir"]
        assert yaml.safe_load((run / ".hydra" / "config.yaml").read_text())["trainer"]["threads"] == 1
        firsts.setdefault(trial.user_attrs["worker"], run)
    assert len(firsts) == 2
    for run in firsts.values():  # pools are set once per process: by each worker's first trial
        assert "TensorFlow thread pools: 1 intra-op, 1 inter-op threads" in (run / "train.log").read_text()
    assert len(summary_rows(root)) == 3
