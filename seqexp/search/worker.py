"""The loop every worker of a search runs, wherever it runs (a local process, a process on another
machine sharing the search dir, a SLURM array task): adopt the trials it was handed, then ask
the study for new ones until the study has n_trials, and tell it how each ended.

Optuna's own `study.optimize` is not used: it marks a trial FAIL on Ctrl-C (so it could not be
resumed) and counts n_trials per process. Here a trial stopped by a signal stays RUNNING (its run
directory says "interrupted"; `seqexp resume` adopts it), and trials are claimed under a lock
file in the search dir, so however many workers share the study it gets exactly n_trials.
Every worker keeps a heartbeat (seqexp.search.liveness) while it works. A trial stopped by a full
disk or an unwritable folder stays RUNNING too, and the worker stops: once the space is freed,
`seqexp resume` continues it from its backup, as it does a single run.
"""

from __future__ import annotations

import logging
from pathlib import Path

from seqexp.errors import NotThisRun, SeqexpError, disk_failure, disk_message

log = logging.getLogger(__name__)

STATE = "search.yaml"
CLAIM_LOCK = "claim"  # <search dir>/claim.lock while a worker counts and asks


class DiskFull(SeqexpError):
    """A trial could not write (full disk, unwritable folder): the trial stays RUNNING and the
    worker stops, since every trial after it would fail the same way."""


def read_state(root: Path) -> dict:
    from seqexp.readback import yaml_object

    path = Path(root) / STATE
    if not path.exists():
        raise SeqexpError(
            f"{root} is not a search dir: it has no {STATE}. Give the folder "
            "`seqexp search` printed (it holds search.yaml and the trials)."
        )
    state = yaml_object(
        path,
        {"overrides": list, "search": dict, "storage": str},
        fix="`seqexp search` writes it when the search starts; restore it from a backup.",
    )
    return state


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
        n_trials = read_state(root)["search"][
            "n_trials"
        ]  # `seqexp resume ... hparams_search.n_trials=` raises it
        started = [t for t in study.get_trials(deepcopy=False) if t.state != TrialState.WAITING]
        if len(started) >= n_trials:
            return None
        return study.ask()


def work(root: Path, threads: int | None = None, adopt: list[int] = ()) -> dict[str, int]:
    """Run trials until the study has n_trials; returns {state: count} of the trials run here."""
    from seqexp.search.liveness import Heartbeat

    root = Path(root)
    state = read_state(root)
    with Heartbeat(root) as heartbeat:
        return _work(root, state, threads, adopt, heartbeat)


def _work(root: Path, state: dict, threads, adopt, heartbeat) -> dict[str, int]:
    import optuna
    from optuna.trial import TrialState

    from seqexp.search.liveness import is_alive

    index = register(root, state)
    study, search, space = open_study(state, index)
    worker = heartbeat.name
    log.info("Worker %d (%s) on study %s", index, worker, search.study_name)
    ran: dict[str, int] = {}

    def one(trial, adopted: bool, previous: str | None = None) -> None:
        heartbeat.trials = [trial.number]
        heartbeat.beat()
        end = run_one(study, trial, state, space, search, root, threads, worker, adopted)
        if end == "left":  # still the other process's trial
            trial.set_user_attr("worker", previous)
        heartbeat.trials = []
        ran[end] = ran.get(end, 0) + 1

    for number in adopt:  # RUNNING trials whose worker died: same trial, same run directory
        frozen = study.get_trials(deepcopy=False)[number]
        if frozen.state != TrialState.RUNNING:
            continue
        if is_alive(root, frozen.user_attrs.get("worker")):  # came back, or another resume took it
            log.info("Trial %d: left to its live worker %s", number, frozen.user_attrs["worker"])
            continue
        # Trial(study, id) is how Optuna itself reopens a trial; its params are read back
        one(optuna.trial.Trial(study, frozen._trial_id), True, frozen.user_attrs.get("worker"))
    while (trial := claim(root, study)) is not None:
        one(trial, adopted=False)
    return ran


def run_one(study, trial, state, space, search, root, threads, worker, adopted=False) -> str:
    """Train one trial and tell the study how it ended (a signal, a full disk, or an adopted
    trial's folder in use by another process leave it RUNNING)."""
    from optuna.trial import TrialState

    from seqexp.run.record import failure_reason
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
        if adopted and isinstance(err, NotThisRun):
            # another process trains this folder (a worker resume could not see): not ours to end
            log.warning("Trial %d left alone: %s", trial.number, err)
            return "left"
        problem = disk_failure(err)
        if problem is not None:  # the trial is not at fault; it resumes once there is space
            raise DiskFull(
                f"Trial {trial.number}: {disk_message(problem)[:-1]}; the trial stays RUNNING with "
                f"its backup, and `seqexp resume {root}` continues the search once that is fixed."
            ) from None
        log.error("Trial %d failed: %s", trial.number, err, exc_info=not isinstance(err, SeqexpError))
        trial.set_user_attr("reason", failure_reason(err))
        study.tell(trial, state=TrialState.FAIL)
        return "failed"
    study.tell(trial, value)
    return "completed"
