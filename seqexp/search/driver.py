"""Start, resume and join a search, and the workers each of them runs.

start   compose the train config with hparams_search=<name>, check it, create the study in
        the search dir (hydra.sweep.dir), write search.yaml, run the workers, write the reports.
resume  the trials RUNNING when the search stopped (Ctrl-C, SIGTERM, SIGKILL, a lost node) are
        adopted and continue from their run directory's backup; missing trials run; finished
        ones are kept. `hparams_search.n_trials=` raises the target of a finished search.
join    one more set of workers on a running search (another machine sharing the search dir).

Workers: n_jobs=1 runs in this process; launcher=local starts n_jobs processes here, each with
its share of the cores (seqexp.run.runtime.share_of_cores, as the joblib launcher's jobs get);
launcher=slurm submits n_jobs workers as one SLURM job array through submitit (submitit_local:
the same code path on this machine).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shlex
import sys
from pathlib import Path

import yaml

from seqexp.atomic import write_text
from seqexp.errors import SeqexpError, disk_failure, disk_message
from seqexp.search.worker import STATE, DiskFull, read_state, work

log = logging.getLogger(__name__)

GROUP = "hparams_search"


def search_overrides(args: list[str]) -> tuple[list[str], dict]:
    """(the trials' train overrides, the hparams_search.* settings given on the command line)."""
    from seqexp.run.rundir import task_overrides

    settings = {}
    for arg in args:
        if arg.startswith(f"{GROUP}.") and "=" in arg:
            key, value = arg[len(GROUP) + 1 :].split("=", 1)
            settings[key] = yaml.safe_load(value)
    # `~hparams_search.params +hparams_search.params={...}` (a whole new space) is the search's too
    trial = [a for a in task_overrides(args) if not a.lstrip("+~").startswith((f"{GROUP}=", f"{GROUP}."))]
    return trial, settings


def compose_search(args: list[str]):
    """The composed train config (hydra node included) of `seqexp search <args>`."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException

    from seqexp.config import CONF_DIR

    if not any(a.startswith(f"{GROUP}=") for a in args):
        options = sorted(p.stem for p in (CONF_DIR / GROUP).glob("*.yaml"))
        raise SeqexpError(
            f"seqexp search needs {GROUP}=<name>, the search to run; the options "
            f"are {', '.join(options)} (conf/{GROUP}/)."
        )
    flags = [a for a in args if a.startswith("-")]
    if flags:
        raise SeqexpError(
            f"seqexp search takes config overrides only, not {' '.join(flags)} (see `seqexp search --help`)."
        )
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose("train", overrides=args, return_hydra_config=True)
    except HydraException as err:
        raise SeqexpError(f"Could not compose the search's config: {err}") from None


def _start(args: list[str]) -> int:
    from omegaconf import OmegaConf, open_dict

    from seqexp.config.checks import check
    from seqexp.run.monitor import best_mode
    from seqexp.search.config import Search, check_storage_folder, open_storage
    from seqexp.search.space import parse

    cfg = compose_search(args)
    root = Path(str(cfg.hydra.sweep.dir)).expanduser().resolve()
    search = Search.from_node(OmegaConf.to_container(cfg[GROUP], resolve=True))
    space = parse(search.params)
    search.check_grid(space)
    if search.direction == "auto":
        mode = best_mode(cfg.trainer.monitor, cfg.trainer.mode)
        search.direction = "minimize" if mode == "min" else "maximize"
    with open_dict(cfg):
        del cfg["hydra"]
        del cfg[GROUP]
    check(cfg)  # the values every trial shares, before any worker starts
    warn_shared_sqlite(cfg, search)
    if (root / STATE).exists():
        raise SeqexpError(
            f"{root} already holds a search (search.yaml); continue it with "
            f"`seqexp resume {root}`, or choose another hydra.sweep.dir."
        )
    import optuna

    from seqexp.search.config import make_pruner, make_sampler

    trial_overrides, _ = search_overrides(args)
    refuse_inside_run(root)
    state = {"overrides": trial_overrides, "search": search.as_dict(), "storage": search.storage_url(root)}
    if search.storage:
        check_storage_folder(state["storage"])
    root.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=search.study_name,
        storage=open_storage(state["storage"]),
        sampler=make_sampler(search, space),
        pruner=make_pruner(search),
        direction=search.direction,
        load_if_exists=True,
    )
    if study.get_trials(deepcopy=False):
        raise SeqexpError(
            f"The storage {state['storage']} already holds a study named "
            f"{search.study_name} with trials; give another hparams_search.study_name, "
            "or resume the search dir that used it."
        )
    write_text(root / STATE, yaml.safe_dump(state, sort_keys=False))
    print(
        f"seqexp: search {search.study_name} in {root}: {search.n_trials} trials, sampler "
        f"{search.sampler}, pruner {search.pruner}, {search.n_jobs} worker(s) ({search.launcher}); "
        f"study in {state['storage']}",
        file=sys.stderr,
    )
    print(dashboard_hint(state["storage"]), file=sys.stderr)
    return run_workers(root, state, [])


def dashboard_hint(storage: str) -> str:
    """How to watch the study live: optuna-dashboard opens the journal file (a path) or the RDB
    URL as given, the way its CLI guesses the storage (docs/sweeps.md)."""
    return (
        f"seqexp: watch it live: optuna-dashboard {shlex.quote(storage)}   "
        "(pip install -e '.[dashboard]'; http://127.0.0.1:8080)"
    )


def warn_shared_sqlite(cfg, search) -> None:
    """SLURM workers sharing one SQLite database: the study's or the MLflow store (docs/sweeps.md)."""
    if search.launcher != "slurm":
        return
    if (search.storage or "").startswith("sqlite:"):
        print(
            f"seqexp: warning: hparams_search.storage={search.storage} is a SQLite database, whose "
            "locks do not hold on NFS when SLURM workers on several machines share it; leave storage "
            "null (the journal file, safe there) or give a database server's URL (docs/sweeps.md).",
            file=sys.stderr,
        )
    if cfg.get("logger") is None or cfg.logger.get("name") != "mlflow":
        return
    from seqexp.run.mlflow_logger import settings, shared_sqlite_warning

    warning = shared_sqlite_warning(settings(cfg.logger, cfg.paths.output_dir)[0], "slurm")
    if warning:
        print(f"seqexp: warning: {warning}", file=sys.stderr)


def refuse_inside_run(root: Path) -> None:
    """A search dir is not a run dir: a folder that holds a run is refused."""
    from seqexp.run.rundir import RUN_MARKERS

    if any((root / marker).exists() for marker in RUN_MARKERS):
        raise SeqexpError(
            f"hydra.sweep.dir={root} holds a run (its metrics.json, train.log or .hydra/); a search "
            "there would mix its trials with that run's files. Choose another hydra.sweep.dir."
        )


def updated(root: Path, args: list[str], allowed: tuple[str, ...]) -> dict:
    """search.yaml with the settings given: `hparams_search.n_trials=30`, the name the setting has
    when a search starts (the bare `n_trials=30` is read the same)."""
    from seqexp.run.identity import check_replayable
    from seqexp.search.config import Search
    from seqexp.search.space import parse, possible_overrides

    state = read_state(root)
    # a search dir handed over (a shared scratch space) replays values and options, never code
    search = Search.from_node(state["search"])
    check_replayable([*state["overrides"], *possible_overrides(parse(search.params))], root / STATE)
    for arg in args:
        key, sep, value = arg.removeprefix(f"{GROUP}.").partition("=")
        if not sep or key not in allowed:
            raise SeqexpError(
                f"{arg} cannot change here; give {' or '.join(f'{GROUP}.{k}=N' for k in allowed)}"
                " (the rest of the search is fixed in search.yaml)."
            )
        state["search"][key] = yaml.safe_load(value)
    search = Search.from_node(state["search"])  # refuse a bad value before it is written
    search.check_grid(parse(search.params))
    return state


def start(args: list[str]) -> int:
    return exit_on_disk_failure(lambda: _start(args))


def resume(root: Path, args: list[str]) -> int:
    return exit_on_disk_failure(lambda: _resume(Path(root).resolve(), args))


def join(root: Path, args: list[str]) -> int:
    root = Path(root).resolve()
    # n_jobs is this command's own: not written back
    return exit_on_disk_failure(lambda: run_workers(root, updated(root, args, ("n_jobs",)), []))


def exit_on_disk_failure(command) -> int:
    """A full disk or an unwritable folder ends the command with one sentence and exit code 1
    (as `seqexp train` does): not a bug, and the search is resumable once it is fixed."""
    try:
        return command()
    except DiskFull as err:
        print(f"seqexp: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        problem = disk_failure(err)
        if problem is None or os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"seqexp: error: {disk_message(problem)}", file=sys.stderr)
        return 1


def _resume(root: Path, args: list[str]) -> int:
    from optuna.trial import TrialState

    from seqexp.search.liveness import is_alive
    from seqexp.search.worker import open_study

    state = updated(root, args, ("n_trials", "n_jobs"))
    study, _, _ = open_study(state)
    trials = study.get_trials(deepcopy=False)
    if len(trials) > state["search"]["n_trials"]:
        raise SeqexpError(
            f"{GROUP}.n_trials={state['search']['n_trials']} is fewer than the "
            f"{len(trials)} trials the study already has; give at least that."
        )
    write_text(root / STATE, yaml.safe_dump(state, sort_keys=False))
    running = [t for t in trials if t.state == TrialState.RUNNING]
    # a RUNNING trial whose worker still beats is that worker's (seqexp.search.liveness)
    workers = {t.number: t.user_attrs.get("worker") for t in running}
    live = {n: w for n, w in workers.items() if is_alive(root, w)}
    orphans = [t.number for t in running if t.number not in live]
    ended = sum(t.state.is_finished() for t in trials)
    left = f"; left to their live workers: {', '.join(f'{n} ({w})' for n, w in live.items())}" if live else ""
    print(
        f"seqexp: resuming the search in {root}: {ended} trial(s) ended and kept, "
        f"{len(orphans)} to resume ({', '.join(map(str, orphans)) or 'none'}), "
        f"{state['search']['n_trials'] - len(trials)} to start{left}.",
        file=sys.stderr,
    )
    print(dashboard_hint(state["storage"]), file=sys.stderr)
    return run_workers(root, state, orphans)


def worker_threads(search: dict, n_jobs: int) -> int | None:
    """Each worker's TensorFlow thread pools (trainer.threads=auto); None: TF's default."""
    from seqexp.run.runtime import available_cores, share_of_cores

    if search["launcher"] != "local":
        return search["slurm"]["cpus_per_task"]
    return share_of_cores(n_jobs, available_cores()) if n_jobs > 1 else None


def run_workers(root: Path, state: dict, orphans: list[int]) -> int:
    from seqexp.interrupt import as_interrupted

    search = state["search"]
    n_jobs = search["n_jobs"]
    threads = worker_threads(search, n_jobs)
    shares = [orphans[k::n_jobs] for k in range(n_jobs)]  # the orphans, spread over the workers
    try:
        if search["launcher"] != "local":
            submit(root, search, threads, shares)
        elif n_jobs == 1:
            work(root, threads, shares[0])
        else:
            local_processes(root, threads, shares)
    except KeyboardInterrupt as err:
        stop = as_interrupted(err)
        print(
            f"seqexp: search interrupted ({stop.reason}); trials that were training stay "
            f"RUNNING with their backups. `seqexp resume {root}` continues the search.",
            file=sys.stderr,
        )
        return stop.exit_code
    return finish(root, state)


def _process_main(root: str, threads: int | None, adopt: list[int]) -> None:
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s][%(levelname)s] %(message)s")
    try:
        work(Path(root), threads, adopt)
    except KeyboardInterrupt:
        sys.exit(130)
    except DiskFull as err:  # one sentence, not a traceback; the parent reports the exit code
        print(f"seqexp: error: {err}", file=sys.stderr)
        sys.exit(1)


def local_processes(root: Path, threads: int | None, shares: list[list[int]]) -> None:
    """n_jobs worker processes here; a signal to this process is passed on to each of them."""
    from seqexp.interrupt import stop_on_signals

    context = multiprocessing.get_context("spawn")  # a fresh interpreter: TensorFlow is not fork-safe
    workers = [context.Process(target=_process_main, args=(str(root), threads, share)) for share in shares]
    for worker in workers:
        worker.start()
    try:
        with stop_on_signals():
            for worker in workers:
                worker.join()
    except KeyboardInterrupt:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: the worker's run records "interrupted"
        for worker in workers:
            worker.join()
        raise
    failed = [w.exitcode for w in workers if w.exitcode]
    if failed:
        raise SeqexpError(
            f"{len(failed)} of {len(workers)} worker processes exited with codes "
            f"{failed}; see the trials' train.log files."
        )


def submit(root: Path, search: dict, threads: int | None, shares: list[list[int]]) -> None:
    """n_jobs workers as one SLURM job array (submitit), waiting for them to end."""
    import submitit

    slurm = search["slurm"]
    cluster = "local" if search["launcher"] == "submitit_local" else "slurm"
    executor = submitit.AutoExecutor(folder=root / ".submitit" / "%j", cluster=cluster)
    executor.update_parameters(
        timeout_min=slurm["timeout_min"],
        cpus_per_task=slurm["cpus_per_task"],
        gpus_per_node=slurm["gpus_per_node"],
        mem_gb=slurm["mem_gb"],
        tasks_per_node=1,
        nodes=1,
        slurm_array_parallelism=len(shares),
        slurm_setup=list(slurm["setup"]),
        **({"slurm_partition": slurm["partition"]} if slurm["partition"] else {}),
    )
    jobs = executor.map_array(work, [root] * len(shares), [threads] * len(shares), shares)
    print(
        f"seqexp: submitted {len(jobs)} worker(s) ({cluster}): job {jobs[0].job_id.split('_')[0]}; "
        f"logs in {root / '.submitit'}",
        file=sys.stderr,
    )
    for job in jobs:
        job.result()


def finish(root: Path, state: dict) -> int:
    """The reports; exit code 1 when some trial failed (they are listed), as a sweep does."""
    from seqexp.search.report import write_reports
    from seqexp.search.worker import open_study

    study, _, _ = open_study(state)
    summary, found = write_reports(study, root)
    counts = ", ".join(f"{n} {s}" for s, n in found["trials"].items())
    print(
        f"seqexp: search {found['study_name']}: {counts}. Reports: "
        f"{', '.join(p.name for p in summary.files)} in {root}",
        file=sys.stderr,
    )
    if "best_run" in found:
        print(
            f"seqexp: best trial {found['best_trial']}: value {found['best_value']:.6g} "
            f"({', '.join(f'{k}={v}' for k, v in found['best_params'].items())}), run "
            f"{root / found['best_run']}",
            file=sys.stderr,
        )
    failed = [job for job in summary.failed if job.status != "running"]
    if failed:
        print(
            f"seqexp: {len(failed)} trial(s) failed: "
            + "; ".join(f"{job.name} ({job.status_text})" for job in failed),
            file=sys.stderr,
        )
        return 1
    return 0
