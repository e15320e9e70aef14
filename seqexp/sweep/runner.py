"""Running a `-m` sweep so that it can be continued and grown (Hydra's sweeper plugin
hydra_plugins.seqexp.sweeper calls `sweep` here).

1. Every job of the command is composed (as Hydra's basic sweeper does to validate them) and
   its config identity taken. With a job list at the sweep root (seqexp.sweep.joblist) the
   command must keep the sweep's settings; each listed job is composed again from its overrides
   and must give the identity the list records; a job of the command that is not listed is new
   and gets the next number. The list is written before any job runs.
2. Each job's folder decides: finished (or failed in training) -> left as it is, not one byte
   rewritten (the launcher never sees it); killed, interrupted or failed outside training ->
   run again, and the single-run resume (seqexp.run.resume) continues it from its backup;
   no folder -> run. A folder whose identity.json is another config's is refused by name.
3. The jobs to run go to the configured launcher, which numbers the jobs of a batch
   `initial_job_idx + i` (every Hydra launcher does; the folder is `${hydra.job.num}_...`). So a
   batch is the span of job numbers from the first job to run to the last: the finished jobs
   inside it keep the numbers of the jobs after them, and are no-ops (`SkipFinished`; with
   hydra.output_subdir=null Hydra writes nothing into their folders). The launcher runs the
   whole span as one batch, in parallel as usual: a killed joblib sweep's unfinished jobs are
   rarely consecutive (job 1 finished, jobs 0 and 2 were running), and launching each run of
   consecutive numbers on its own would run job 0 alone.
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import OmegaConf, open_dict, read_write

from seqexp.errors import NotThisRun
from seqexp.run.identity import config_identity, digest, read_identity, refuse_other_config
from seqexp.run.rundir import METRICS, RUN_MARKERS, may_continue, read_metrics
from seqexp.sweep.joblist import (
    JOBS,
    Job,
    JobList,
    check_command,
    parse_command,
    read_job_list,
    refuse_changed_config,
    replayable,
    write_job_list,
)
from seqexp.sweep.progress import Progress, Watched, launcher_slots

log = logging.getLogger(__name__)


def sweep(sweeper, arguments: list[str]) -> list:
    """Plan the sweep in hydra.sweep.dir, write its job list, run the jobs left; returns the
    launchers' JobReturns, as Hydra's sweepers do."""
    from hydra.core.hydra_config import HydraConfig

    from seqexp.run.guard import Refused, refusals

    config, loader = sweeper.config, sweeper.hydra_context.config_loader
    sweep_dir = Path(str(config.hydra.sweep.dir))
    commanded = [*sweeper._parse_config(), *arguments]  # hydra.sweeper.params, then the command line
    launcher = sweeper.launcher
    task_function = getattr(launcher, "task_function", None)
    if task_function is None:  # every Hydra launcher keeps it there (basic, joblib, submitit, ray)
        raise Refused(
            f"hydra/launcher={type(launcher).__name__} keeps no task_function, so seqexp's sweeper cannot "
            f"leave finished jobs out of its batches. Use hydra/launcher=basic, joblib, submitit_local, "
            f"slurm or ray, or hydra/sweeper=basic (a sweep that cannot be continued in its folder).",
            2,
        )
    with refusals():
        try:
            jobs, todo, done = plan(sweep_dir, config, loader, commanded)
        finally:
            HydraConfig.instance().set_config(config)  # the sweep's own, for the callbacks
    sweep_dir.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(config, sweep_dir / "multirun.yaml")  # Hydra's record of the last command
    if done:
        log.info(
            "Sweep %s: %d of %d jobs already finished, left as they are", sweep_dir, len(done), len(jobs.jobs)
        )
    durations = [
        w
        for job in done
        if isinstance(w := (read_metrics(sweep_dir / job.folder) or {}).get("wall_time_s"), int | float)
    ]
    watched = [Watched(job.num, label(job, jobs), sweep_dir / job.folder) for job in todo]
    returns = []
    todo_nums = {job.num for job in todo}
    try:
        with Progress(watched, len(done), launcher_slots(config.hydra.get("launcher")), durations):
            for span in spans(jobs.jobs, todo_nums, sweeper.max_batch_size):
                skip = frozenset(job.num for job in span if job.num not in todo_nums)
                launcher.task_function = SkipFinished(task_function, skip) if skip else task_function
                batch = [[*job.overrides, *(NOTHING_WRITTEN if job.num in skip else [])] for job in span]
                results = launcher.launch(batch, initial_job_idx=span[0].num)
                for result in results:
                    _ = result.return_value  # as Hydra's sweepers do: a job that raised raises here
                returns.append(results)
    finally:
        launcher.task_function = task_function
    return returns


def plan(sweep_dir: Path, config, loader, commanded: list[str]) -> tuple[JobList, list[Job], list[Job]]:
    """(the job list, written; the jobs to run; the jobs finished before), or a refusal."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    fixed, swept = parse_command(commanded)
    listed = read_job_list(sweep_dir)
    if listed is not None:
        check_command(sweep_dir, listed, fixed, swept)
    parsed = OverridesParser.create(config_loader=loader).parse_overrides(commanded)
    combos = [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]
    given = OmegaConf.to_container(config.hydra.overrides.hydra, resolve=False)  # `${...}` kept as typed
    hydra_overrides = [str(o) for o in given if replayable(str(o))]
    if listed is None:
        listed = JobList(fixed, list(swept), hydra_overrides, [])
    composed = Composer(config, loader)
    known = {}
    for job in listed.jobs:  # the config of each listed job is still the one it was run with
        identity = composed.identity(job.overrides)
        if digest(identity) != job.sha256:
            refuse_changed_config(sweep_dir, job, identity)
        known[job.sha256] = job
    grown = False
    for overrides in combos:
        identity = composed.identity(overrides)
        sha = digest(identity)
        if sha not in known:
            num = max((job.num for job in listed.jobs), default=-1) + 1
            known[sha] = job = Job(num, list(overrides), composed.folder(overrides, num), sha, identity)
            listed.jobs.append(job)
            grown = True
    for job in listed.jobs:  # the folder the job list names is the one Hydra will use
        folder = composed.folder(job.overrides, job.num)
        if folder != job.folder:
            raise NotThisRun(
                f"hydra.sweep.dir={sweep_dir}: job {job.num}'s folder is {job.folder}, but "
                f"hydra.sweep.subdir now names it {folder}; give the hydra.sweep.subdir the sweep "
                f"started with (`seqexp resume {sweep_dir}` does)."
            )
    todo, done = [], []
    for job in sorted(listed.jobs, key=lambda j: j.num):
        (todo if needs_running(sweep_dir / job.folder, job) else done).append(job)
    # the launcher settings `seqexp resume` replays are the last command's
    if grown or listed.hydra != hydra_overrides or not (sweep_dir / JOBS).exists():
        sweep_dir.mkdir(parents=True, exist_ok=True)
        listed.hydra = hydra_overrides
        write_job_list(sweep_dir, listed)
    return listed, todo, done


class Composer:
    """Each job's config composed once, as its launcher will compose it."""

    def __init__(self, config, loader):
        self.config, self.loader, self.cache = config, loader, {}

    def job_config(self, overrides: list[str]):
        key = tuple(overrides)
        if key not in self.cache:
            self.cache[key] = self.loader.load_sweep_config(self.config, list(overrides))
        return self.cache[key]

    def identity(self, overrides: list[str]) -> dict:
        from hydra.core.hydra_config import HydraConfig

        job_cfg = self.job_config(overrides)
        HydraConfig.instance().set_config(job_cfg)  # ${hydra:...} resolves as in the job
        return config_identity(job_cfg)

    def folder(self, overrides: list[str], num: int) -> str:
        from hydra.core.hydra_config import HydraConfig

        job_cfg = self.job_config(overrides)
        with read_write(job_cfg.hydra), open_dict(job_cfg):
            job_cfg.hydra.job.num = num
        HydraConfig.instance().set_config(job_cfg)
        return str(job_cfg.hydra.sweep.subdir)


def needs_running(folder: Path, job: Job) -> bool:
    """Whether the job's folder holds nothing finished of this job: never started, killed,
    interrupted, or failed outside training. Another config's run there is refused by name."""
    if not folder.exists():
        return True
    recorded = read_identity(folder)
    if recorded is not None:
        refuse_other_config(folder, recorded, job.config)
    elif (folder / METRICS).exists():
        raise NotThisRun(
            f"{folder} holds a run without identity.json (another seqexp version's, or copied "
            f"there), so it cannot be told to be job {job.num} of this sweep; nothing was changed. "
            f"Move it away, or choose another hydra.sweep.dir."
        )
    elif not any((folder / marker).exists() for marker in RUN_MARKERS):
        return True
    return may_continue(read_metrics(folder))


def label(job: Job, jobs: JobList) -> str:
    """The job's values of the swept keys (its whole override list when nothing is swept)."""
    swept = [o for o in job.overrides if o.split("=", 1)[0] in jobs.swept]
    return " ".join(swept or job.overrides) or "(defaults)"


NOTHING_WRITTEN = ["hydra.output_subdir=null"]  # no .hydra/ rewritten in a finished job's folder


class SkipFinished:
    """The sweep's task function, except for the finished jobs of a batch (by job number): they
    return at once. Picklable, for the launchers that send the task function to workers."""

    def __init__(self, task_function, skip: frozenset[int]):
        self.task_function, self.skip = task_function, skip

    def __call__(self, cfg):
        from hydra.core.hydra_config import HydraConfig

        if HydraConfig.get().job.num in self.skip:
            return None
        return self.task_function(cfg)


def spans(jobs: list[Job], todo: set[int], max_batch_size: int | None) -> list[list[Job]]:
    """The jobs from the first to run to the last, by number, in batches of at most
    max_batch_size (None, -1: one batch) that each begin with a job to run."""
    ordered = sorted(jobs, key=lambda j: j.num)
    if not todo:
        return []
    span = [job for job in ordered if min(todo) <= job.num <= max(todo)]
    size = max_batch_size if max_batch_size and max_batch_size > 0 else len(span)
    out: list[list[Job]] = []
    while span:
        while span and span[0].num not in todo:  # a batch never starts with a finished job
            span.pop(0)
        if span:
            out.append(span[:size])
            span = span[size:]
    return out
