"""`seqexp resume <run dir>`: continue an interrupted run with the overrides it started with;
`seqexp resume <sweep dir>`: continue a killed `-m` sweep (its job list, seqexp.sweep);
`seqexp resume <search dir> [hparams_search.n_trials=N]`: continue (or extend) a search (seqexp.search)."""

from __future__ import annotations

import sys
from pathlib import Path

from seqexp.cli._help import command_parser
from seqexp.cli.train import APP
from seqexp.errors import SeqexpError
from seqexp.run.environment import changes_since, read_env
from seqexp.run.record import FINISHED
from seqexp.run.rundir import check_resumable, quoted_override, read_metrics
from seqexp.search.config import JOURNAL
from seqexp.search.worker import STATE
from seqexp.sweep.joblist import JOBS, resume_command

DESCRIPTION = "continue an interrupted run, or a sweep, in its own directory"
ORDER = 2


def run(args: list[str]) -> int:
    parser = command_parser(
        "resume",
        "Continue an interrupted (Ctrl-C, SIGTERM, killed) run in its own directory from its last "
        "finished epoch, with the config it started with; history.csv, the curves and metrics.json "
        "continue where they stopped. A sweep dir continues its unfinished jobs; a search dir "
        "continues its trials, or runs more of them with hparams_search.n_trials=N.",
        [
            "seqexp resume outputs/2026-01-31/12-00-00-000000_jena_gru",
            "seqexp resume outputs/multirun/2026-01-31/12-00-00-000000",
            "seqexp resume <search dir> hparams_search.n_trials=80 hparams_search.n_jobs=2",
        ],
    )
    parser.add_argument(
        "run_dir",
        type=Path,
        help="the run directory (it holds .hydra/ and train.log), a sweep dir (it holds jobs.json) "
        "or a search dir (it holds search.yaml)",
    )
    parser.add_argument(
        "settings",
        nargs="*",
        help="search dir only: hparams_search.n_trials=N (raise the target), "
        "hparams_search.n_jobs=N (workers)",
    )
    given = parser.parse_args(args)
    run_dir = given.run_dir
    if (run_dir / STATE).exists():
        from seqexp.search.driver import resume

        return resume(run_dir, given.settings)
    if (run_dir / JOURNAL).exists():  # a search folder that lost what was asked
        raise SeqexpError(
            f"{run_dir} holds a search's study ({JOURNAL}) but not its {STATE}, which says what "
            f"the search trains and how (overrides, space, n_trials), so it cannot be continued. "
            f"Put {STATE} back (from a backup or a copy of the folder), or start a new search with "
            f"`seqexp search ...`; its trials' run folders stay readable by `seqexp runs {run_dir}`."
        )
    if given.settings:
        parser.error(
            f"{' '.join(given.settings)}: settings are for a search dir, and {run_dir} holds no search.yaml"
        )
    if (run_dir / JOBS).exists():
        return resume_sweep(run_dir)
    if (run_dir / "multirun.yaml").exists():
        raise SeqexpError(
            f"{run_dir} is a sweep of an older seqexp: it has no job list ({JOBS}). Run its "
            f"`seqexp train -m ...` command again with hydra.sweep.dir={run_dir}: its finished jobs "
            f"are kept, the others continue, and the job list is written for next time."
        )
    overrides, status = check_resumable(run_dir)
    env = read_env(run_dir)
    changes = changes_since(env) if env is not None else []
    if changes:  # the run goes on, but its epochs will not all come from one environment
        print(
            f"seqexp: warning: {run_dir} started under other versions than these: "
            f"{'; '.join(changes)}. Its remaining epochs train under the new ones (env.json keeps "
            f"the old environment under 'previous').",
            file=sys.stderr,
        )
    print(
        f"seqexp: resuming {run_dir} (status {status or 'unknown'}) with: "
        f"{' '.join(overrides) or 'the defaults'}",
        file=sys.stderr,
    )
    # quoted: a folder name with '=', commas, brackets or unicode is not a bare override value
    return APP.run([*overrides, quoted_override("hydra.run.dir", str(run_dir))])


def resume_sweep(sweep_dir: Path) -> int:
    """The sweep's own command again, into its folder: finished jobs stay as they are, the
    others continue or start (seqexp.sweep.runner)."""
    args, jobs = resume_command(sweep_dir)
    finished = sum(
        (read_metrics(sweep_dir / job.folder) or {}).get("status") in FINISHED for job in jobs.jobs
    )
    print(
        f"seqexp: continuing the sweep in {sweep_dir}: {finished} of {len(jobs.jobs)} jobs finished; "
        f"the others continue from their backups or start.",
        file=sys.stderr,
    )
    return APP.run([*args, quoted_override("hydra.sweep.dir", str(sweep_dir))])
