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
3. The jobs to run go to the configured launcher in groups of consecutive numbers, because every
   Hydra launcher numbers the jobs of a batch `initial_job_idx + i` (and the folder is
   `${hydra.job.num}_...`): a group keeps every job's number and folder, and within a group the
   launcher runs its jobs in parallel as usual. Finished jobs are mostly a prefix (and grown ones
   a tail), so a continued sweep is one or a few groups.
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import OmegaConf, open_dict, read_write

from seqexp.errors import NotThisRun
from seqexp.run.identity import config_identity, digest, read_identity, refuse_other_config
from seqexp.run.rundir import METRICS, RUN_MARKERS, may_continue, read_metrics
from seqexp.sweep.joblist import (
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

    from seqexp.run.guard import refusals

    config, loader = sweeper.config, sweeper.hydra_context.config_loader
    sweep_dir = Path(str(config.hydra.sweep.dir))
    commanded = [*sweeper._parse_config(), *arguments]  # hydra.sweeper.params, then the command line
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
    with Progress(watched, len(done), launcher_slots(config.hydra.get("launcher")), durations):
        for group in groups(todo, sweeper.max_batch_size):
            results = sweeper.launcher.launch([job.overrides for job in group], initial_job_idx=group[0].num)
            for result in results:
                _ = result.return_value  # as Hydra's sweepers do: a job that raised raises here
            returns.append(results)
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
    if grown or not (sweep_dir / "jobs.json").exists():
        sweep_dir.mkdir(parents=True, exist_ok=True)
        listed.hydra = sorted(set(listed.hydra) | set(hydra_overrides))
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


def groups(jobs: list[Job], max_batch_size: int | None) -> list[list[Job]]:
    """Runs of consecutive job numbers, at most max_batch_size jobs each (None, -1: no limit)."""
    size = max_batch_size if max_batch_size and max_batch_size > 0 else len(jobs) or 1
    out: list[list[Job]] = []
    for job in jobs:
        if out and out[-1][-1].num == job.num - 1 and len(out[-1]) < size:
            out[-1].append(job)
        else:
            out.append([job])
    return out
