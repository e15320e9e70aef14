"""A sweep's job list: jobs.json at the sweep root, the one record of which jobs a sweep is.

Written (atomically) when a `-m` sweep starts, and again only when a command grows the sweep.
With each job folder's own metrics.json and identity.json it is all the state a sweep has, so a
killed sweep is continued from its files alone (seqexp.sweep.runner). Its fields:

  fixed   {key: value} the overrides every job shares (hydra.* excluded)
  swept   [key, ...]   the keys whose values vary between jobs; a sweep grows only along them
  hydra   [override]   the launcher settings `seqexp resume` replays (hydra/launcher=joblib, ...)
  jobs    [{num, overrides, folder, sha256, config}]: a job's number (stable: new jobs get the
          next ones), its overrides, its folder under the sweep dir and its config identity
          (seqexp.run.identity.config_identity, and its hash)

Plain JSON, no TensorFlow: `seqexp resume` reads it before anything heavy is imported.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from seqexp.atomic import write_text
from seqexp.errors import NotThisRun, SeqexpError
from seqexp.readback import DamagedFile, json_object

JOBS = "jobs.json"
FORMAT = 1
FIX = "Restore it, or choose another hydra.sweep.dir (its job folders are kept as they are)."


@dataclass
class Job:
    num: int
    overrides: list[str]
    folder: str  # the job's folder name under the sweep dir
    sha256: str
    config: dict = field(repr=False)


@dataclass
class JobList:
    fixed: dict[str, str]
    swept: list[str]
    hydra: list[str]
    jobs: list[Job]

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=1, default=str) + "\n"


def read_job_list(sweep_dir: Path) -> JobList | None:
    """The sweep's jobs.json (None: there is none); a torn or hand-edited one is a DamagedFile."""
    path = Path(sweep_dir) / JOBS
    if not path.exists():
        return None
    raw = json_object(path, {"fixed": dict, "swept": list, "hydra": list, "jobs": list}, fix=FIX)
    try:
        jobs = [Job(**job) for job in raw["jobs"]]
    except TypeError as err:
        raise DamagedFile(
            path, f"a job entry is not {{num, overrides, folder, sha256, config}} ({err})", FIX
        ) from None
    return JobList(raw["fixed"], raw["swept"], raw["hydra"], jobs)


def write_job_list(sweep_dir: Path, jobs: JobList) -> None:
    write_text(Path(sweep_dir) / JOBS, jobs.to_json())


def parse_command(arguments: list[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(fixed {key: value}, swept {key: values}) of a sweep's task overrides."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    fixed, swept = {}, {}
    for override in OverridesParser.create().parse_overrides(arguments):
        key = override.get_key_element()
        if override.is_sweep_override():
            swept[key] = list(override.sweep_string_iterator())
        else:
            fixed[key] = override.get_value_element_as_str()
    return fixed, swept


def check_command(sweep_dir: Path, jobs: JobList, fixed: dict[str, str], swept: dict) -> None:
    """A command continues or grows the sweep in `sweep_dir` only with more values of the same
    swept keys: it sweeps no other key, leaves none of them out, and sets every other key as the
    sweep does. Refused naming the keys."""
    problems = [f"it sweeps {k}, which this sweep does not vary" for k in swept if k not in jobs.swept]
    problems += [
        f"it leaves out {k}, which this sweep varies" for k in jobs.swept if k not in fixed and k not in swept
    ]
    unset = "(not set)"
    for key in sorted((jobs.fixed.keys() | fixed.keys()) - set(jobs.swept) - swept.keys()):
        there, here = jobs.fixed.get(key, unset), fixed.get(key, unset)
        if there != here:
            problems.append(f"{key} is {there} there, {here} here")
    if problems:
        raise NotThisRun(
            f"hydra.sweep.dir={sweep_dir} holds a sweep of other settings: {'; '.join(problems)}. "
            f"A sweep folder continues with the same settings, and grows only by more values of "
            f"its swept keys ({', '.join(jobs.swept) or 'none'}); `seqexp resume {sweep_dir}` "
            f"continues it as it is. For other settings choose another hydra.sweep.dir."
        )


def differing_keys(old: dict, new: dict) -> list[str]:
    """'key: old there, new here' for each key of two config identities that differs."""
    unset = "(not set)"
    keys = sorted(k for k in old.keys() | new.keys() if old.get(k, unset) != new.get(k, unset))
    return [f"{k}: {old.get(k, unset)!r} there, {new.get(k, unset)!r} here" for k in keys]


def refuse_changed_config(sweep_dir: Path, job: Job, identity: dict) -> None:
    """A listed job whose overrides now compose another config: the config changed outside the
    swept keys (an edited YAML file, another seqexp version's defaults)."""
    keys = differing_keys(job.config, identity)
    raise NotThisRun(
        f"hydra.sweep.dir={sweep_dir}: job {job.num} ({' '.join(job.overrides) or 'the defaults'}) "
        f"now composes another config than the sweep's job list records ({len(keys)} key(s) differ: "
        f"{'; '.join(keys[:6])}{'; ...' if len(keys) > 6 else ''}); continuing would mix two "
        f"configs in one sweep. Put the config files back as they were, or choose another "
        f"hydra.sweep.dir for the new config."
    )


# hydra.* overrides `seqexp resume` replays: the launcher and how the jobs are laid out. Never a
# _target_ or the submitit `setup` commands: a folder handed over must not name code to run.
REPLAYED = ("hydra/launcher=", "hydra.launcher.", "hydra.sweep.subdir=", "hydra.sweeper.max_batch_size=")


def replayable(override: str) -> bool:
    key = override.split("=", 1)[0]
    return override.startswith(REPLAYED) and "_target_" not in key and not key.endswith(".setup")


def resume_command(sweep_dir: Path) -> tuple[list[str], JobList]:
    """The `seqexp train -m` arguments that continue the sweep in `sweep_dir` (its first job's
    overrides: the sweep runs every unfinished job of its list), checked like a run's."""
    from seqexp.run.identity import check_replayable

    jobs = read_job_list(sweep_dir)
    if jobs is None or not jobs.jobs:
        raise SeqexpError(f"{sweep_dir} holds no sweep job list ({JOBS}).")
    check_replayable(jobs.jobs[0].overrides, Path(sweep_dir) / JOBS)
    unsafe = [o for o in jobs.hydra if not replayable(o)]
    if unsafe:
        raise SeqexpError(
            f"{Path(sweep_dir) / JOBS} asks to replay Hydra setting(s) {', '.join(unsafe)}; `seqexp "
            f"resume` replays only {', '.join(r.rstrip('=.') for r in REPLAYED)} (never a _target_ or "
            f"setup commands). Check where this folder came from; nothing was run."
        )
    return ["-m", *jobs.jobs[0].overrides, *jobs.hydra], jobs
