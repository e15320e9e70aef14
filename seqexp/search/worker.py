"""The loop every worker of a search runs, wherever it runs (a local process, a process on another
machine sharing the search dir, a SLURM array task): adopt the trials it was handed, then ask
the study for new ones until the study has n_trials, and tell it how each ended.

Optuna's own `study.optimize` is not used: it marks a trial FAIL on Ctrl-C (so it could not be
resumed) and counts n_trials per process. Here a trial stopped by a signal stays RUNNING (its run
directory says "interrupted"; `seqexp resume` adopts it), and trials are claimed under a lock
file in the search dir, so however many workers share the study it gets exactly n_trials.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import yaml

from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)

STATE = "search.yaml"
CLAIM_LOCK = "claim"  # <search dir>/claim.lock while a worker counts and asks


def read_state(root: Path) -> dict:
    path = Path(root) / STATE
    if not path.exists():
        raise SeqexpError(
            f"{root} is not a search dir: it has no {STATE}. Give the folder "
            "`seqexp search` printed (it holds search.yaml and the trials)."
        )
    return yaml.safe_load(path.read_text())


def open_study(state: dict, worker_index: int = 0):
    """The study with this worker's sampler (seed + worker index: workers sample differently,
    and a resumed search does not repeat the first worker's samples) and the search's pruner."""
    import optuna

    from seqexp.search.config import Search, make_pruner, make_sampler, open_storage
    from seqexp.search.space import parse

    search = Search.from_node(state["search"])
    if search.seed is not None:
        search.seed += worker_index
    space = parse(search.params)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=search.study_name,
        storage=open_storage(state["storage"]),
        sampler=make_sampler(search, space),
        pruner=make_pruner(search),
    )
    return study, search, space


def register(root: Path, state: dict) -> int:
    """This worker's index among all the workers the study has had (under the claim lock)."""
    study, _, _ = open_study(state)
    with claim_lock(root):
        index = int(study.user_attrs.get("workers", 0))
        study.set_user_attr("workers", index + 1)
    return index


class claim_lock:
    """Optuna's journal-file lock (a file created with O_EXCL) around counting and asking."""

    def __init__(self, root: Path):
        from optuna.storages.journal import JournalFileOpenLock

        self.lock = JournalFileOpenLock(str(Path(root) / CLAIM_LOCK))

    def __enter__(self):
        self.lock.acquire()

    def __exit__(self, *exc):
        self.lock.release()


def claim(root: Path, study):
    """A new trial of the study, or None when it already has n_trials (any state but waiting)."""
    from optuna.trial import TrialState

    with claim_lock(root):
        n_trials = read_state(root)["search"]["n_trials"]  # `seqexp resume ... n_trials=` raises it
        started = [t for t in study.get_trials(deepcopy=False) if t.state != TrialState.WAITING]
        if len(started) >= n_trials:
            return None
        return study.ask()


def work(root: Path, threads: int | None = None, adopt: list[int] = ()) -> dict[str, int]:
    """Run trials until the study has n_trials; returns {state: count} of the trials run here."""
    import optuna
    from optuna.trial import TrialState

    root = Path(root)
    state = read_state(root)
    index = register(root, state)
    study, search, space = open_study(state, index)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    log.info("Worker %d (%s) on study %s", index, worker, search.study_name)
    ran: dict[str, int] = {}
    for number in adopt:  # RUNNING trials whose worker died: same trial, same run directory
        frozen = study.get_trials(deepcopy=False)[number]
        if frozen.state == TrialState.RUNNING:
            # Trial(study, id) is how Optuna itself reopens a trial; its params are read back
            trial = optuna.trial.Trial(study, frozen._trial_id)
            end = run_one(study, trial, state, space, search, root, threads, worker)
            ran[end] = ran.get(end, 0) + 1
    while (trial := claim(root, study)) is not None:
        end = run_one(study, trial, state, space, search, root, threads, worker)
        ran[end] = ran.get(end, 0) + 1
    return ran


def run_one(study, trial, state, space, search, root, threads, worker) -> str:
    """Train one trial and tell the study how it ended (a signal leaves it RUNNING)."""
    from optuna.trial import TrialState

    from seqexp.run.rundir import failure_reason
    from seqexp.search.space import suggest
    from seqexp.search.trial import Pruned, run_trial

    trial.set_user_attr("worker", worker)
    try:
        overrides = [*state["overrides"], *suggest(trial, space)]
        value = run_trial(trial, overrides, root, search.pruner, threads)
    except Pruned as why:
        log.info("Trial %d pruned: %s", trial.number, why)
        study.tell(trial, state=TrialState.PRUNED)
        return "pruned"
    except Exception as err:  # a failed trial does not stop the search (as in a sweep)
        log.error("Trial %d failed: %s", trial.number, err, exc_info=not isinstance(err, SeqexpError))
        trial.set_user_attr("reason", failure_reason(err))
        study.tell(trial, state=TrialState.FAIL)
        return "failed"
    study.tell(trial, value)
    return "completed"
