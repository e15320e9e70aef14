"""Several processes writing one store at once, as a sweep's parallel jobs or a search's workers
do (docs/runs.md and docs/sweeps.md, shared filesystems): logger=mlflow's default SQLite store
and the search's Optuna journal file. Every record must be there, with its values, afterwards.

Local disk only: SQLite's locks are safe here (not on NFS, where the docs ask for a server); the
journal's lock file (O_EXCL) is the same code on NFS v3+."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

WORKERS = 4
RUNS_PER_WORKER = 4
EPOCHS = 5
TRIALS_PER_WORKER = 15


def loss(worker: int, run: int, epoch: int) -> float:
    """A value only this worker's run at this epoch has, so a record landing on the wrong run or
    step is caught."""
    return worker + run / 10 + epoch / 1000


def mlflow_worker(cfgs: list, worker: int, go) -> None:
    from seqexp.run.mlflow_logger import MlflowRun
    from seqexp.run.record import RunRecord

    go.wait()  # every process starts writing at the same moment
    for run, cfg in enumerate(cfgs):
        tracker = MlflowRun(cfg, Path(cfg.paths.run_dir), "jena", "dense")
        tracker.start()
        for epoch in range(1, EPOCHS + 1):
            tracker.epoch(epoch, {"loss": loss(worker, run, epoch)})
        tracker.end(RunRecord(status="completed", epochs_run=EPOCHS, test={"mae": loss(worker, run, 0)}))


def run_all(target, args_of) -> None:
    context = multiprocessing.get_context("spawn")  # fresh interpreters, as separate jobs are
    go = context.Event()
    processes = [context.Process(target=target, args=(*args_of(w), w, go)) for w in range(WORKERS)]
    for process in processes:
        process.start()
    go.set()
    for process in processes:
        process.join(timeout=600)
    assert [p.exitcode for p in processes] == [0] * WORKERS


@pytest.mark.slow
def test_parallel_jobs_log_every_run_into_one_mlflow_sqlite_store(tmp_path):
    from mlflow import MlflowClient

    from seqexp.run.mlflow_logger import connect, settings
    from tests.conftest import compose_train

    outputs = tmp_path / "outputs"
    cfgs = {}
    for worker in range(WORKERS):
        cfgs[worker] = []
        for run in range(RUNS_PER_WORKER):
            run_dir = tmp_path / f"w{worker}_r{run}"
            run_dir.mkdir()
            (run_dir / "metrics.json").write_text(f'{{"worker": {worker}, "run": {run}}}')
            cfgs[worker].append(compose_train(run_dir, "logger=mlflow", f"paths.output_dir={outputs}"))
    store = settings(cfgs[0][0].logger, str(outputs))
    connect(*store)  # the store exists before the jobs start, as SweepParent makes it for a sweep

    run_all(mlflow_worker, lambda w: (cfgs[w],))

    client = MlflowClient(store[0])
    experiment = client.get_experiment_by_name("seqexp")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    assert len(runs) == WORKERS * RUNS_PER_WORKER
    seen = set()
    for found in runs:
        worker, run = (int(part[1:]) for part in Path(found.data.tags["seqexp.run_dir"]).name.split("_"))
        seen.add((worker, run))
        assert found.info.status == "FINISHED" and found.data.tags["status"] == "completed"
        history = client.get_metric_history(found.info.run_id, "loss")
        assert sorted((m.step, m.value) for m in history) == [
            (epoch, pytest.approx(loss(worker, run, epoch))) for epoch in range(1, EPOCHS + 1)
        ]
        assert found.data.metrics["test/mae"] == pytest.approx(loss(worker, run, 0))
        assert found.data.params["paths.run_dir"] == found.data.tags["seqexp.run_dir"]
        assert [a.path for a in client.list_artifacts(found.info.run_id)] == ["metrics.json"]
    assert seen == {(w, r) for w in range(WORKERS) for r in range(RUNS_PER_WORKER)}


def journal_worker(journal: str, worker: int, go) -> None:
    import optuna

    from seqexp.search.config import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="parallel", storage=open_storage(journal))
    go.wait()
    for i in range(TRIALS_PER_WORKER):
        trial = study.ask()
        x = trial.suggest_float("x", 0, 1)
        trial.set_user_attr("worker", worker)
        trial.set_user_attr("i", i)
        for step in range(3):
            trial.report(worker * 100 + i + step / 10, step)
        study.tell(trial, worker * 100 + i + x)


@pytest.mark.slow
def test_parallel_workers_append_every_trial_to_one_optuna_journal(tmp_path):
    import optuna

    from seqexp.search.config import open_storage, repair_journal

    journal = str(tmp_path / "study.journal")
    optuna.create_study(study_name="parallel", storage=open_storage(journal))

    run_all(journal_worker, lambda w: (journal,))

    from optuna.storages.journal import JournalFileOpenLock

    assert repair_journal(Path(journal), JournalFileOpenLock(journal)) is None  # no torn record
    trials = optuna.load_study(study_name="parallel", storage=open_storage(journal)).trials
    assert len(trials) == WORKERS * TRIALS_PER_WORKER
    assert sorted(t.number for t in trials) == list(range(WORKERS * TRIALS_PER_WORKER))
    assert {(t.user_attrs["worker"], t.user_attrs["i"]) for t in trials} == {
        (w, i) for w in range(WORKERS) for i in range(TRIALS_PER_WORKER)
    }
    for t in trials:
        worker, i = t.user_attrs["worker"], t.user_attrs["i"]
        assert t.state == optuna.trial.TrialState.COMPLETE
        assert t.value == pytest.approx(worker * 100 + i + t.params["x"])
        assert t.intermediate_values == {s: pytest.approx(worker * 100 + i + s / 10) for s in range(3)}
