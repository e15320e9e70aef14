"""The run directory's own files and rules: the one writer of metrics.json, the reader and writer
of history.csv, and the status rules (which folder may be trained into, resumed, or is done).
What made the run (identity.json) is seqexp.run.identity; one process at a time, seqexp.run.lock.

Everything here is plain files and JSON: the sweep summary, `seqexp resume` and the CLI's
guards read run directories through this module without importing TensorFlow.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from pathlib import Path

from seqexp.atomic import write_text
from seqexp.errors import NotThisRun, SeqexpError
from seqexp.readback import DamagedFile, csv_numbers, json_object, yaml_strings
from seqexp.run.identity import check_replayable, read_identity, refuse_other_config

METRICS = "metrics.json"
HISTORY = "history.csv"
# any of these makes a folder a run directory (env.json and train.log: a run that died early)
RUN_MARKERS = (METRICS, "env.json", "train.log", ".hydra")
FINISHED = ("completed", "stopped early", "pruned")  # statuses of a run with nothing left to train
# ("pruned": stopped by a search's pruner, seqexp.search; it keeps its history and curves)
# A run may be continued (`seqexp resume`, or the same command with hydra.run.dir=) when it is
# "running" (killed), "interrupted", or "failed" with `"resumable": true`: a failure outside
# training (a damaged backup, a torn file, a full disk) that is gone once its cause is. A run that
# failed in training (a nan loss) would fail again: it is done, like the FINISHED ones.
CONTINUABLE = (None, "running", "interrupted")


# ---- metrics.json ---------------------------------------------------------------------------


def read_metrics(run_dir: Path) -> dict | None:
    """A run directory's metrics.json as a dict (None: missing, torn or not an object)."""
    try:
        report = json.loads((Path(run_dir) / METRICS).read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def read_status(run_dir: Path) -> str | None:
    """The status in a run directory's metrics.json (None: no readable metrics.json)."""
    return (read_metrics(run_dir) or {}).get("status")


def checked_status(run_dir: Path) -> str | None:
    """The status of a folder about to be trained into or resumed: None without metrics.json, and
    a DamagedFile for one that cannot be read (the run it describes may be finished)."""
    path = Path(run_dir) / METRICS
    if not path.exists():
        return None
    fix = "Restore it (the run's numbers are also in train.log), or delete the folder to start over."
    status = json_object(path, fix=fix).get("status")
    if status is not None and not isinstance(status, str):
        raise DamagedFile(path, f"its 'status' is {status!r}, not text such as 'interrupted'", fix)
    return status


def write_metrics(run_dir: Path, report: dict) -> None:
    """Replace metrics.json atomically; non-finite numbers become null (JSON has no nan)."""

    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    Path(run_dir).mkdir(parents=True, exist_ok=True)
    write_text(Path(run_dir) / METRICS, json.dumps(clean(report), indent=2, default=str) + "\n")


def failure_reason(err: BaseException) -> str:
    """How a failure reads in metrics.json: a user error in its own words, else the exception."""
    return str(err) if isinstance(err, SeqexpError) else f"{type(err).__name__}: {err}"


def settle_status(run_dir: Path, status: str, reason: str, **extra) -> None:
    """Record how a run ended unless it already did: only a missing or 'running' status is
    replaced, so the reason train wrote, or an earlier finished run, stays as it is."""
    report = read_metrics(run_dir) or {}
    if report.get("status") not in (None, "running"):
        return
    write_metrics(run_dir, {**report, "status": status, "reason": reason, **extra})


def record_failure(run_dir: Path, err: BaseException) -> None:
    """A failed sweep job's metrics.json says failed and why (the summary reads it); a failure
    outside training leaves it resumable. A folder refused as another run's is left as it is."""
    if not isinstance(err, NotThisRun):
        settle_status(run_dir, "failed", failure_reason(err), resumable=True)


def may_continue(report: dict | None) -> bool:
    """Whether a run with this metrics.json may be continued (CONTINUABLE, above)."""
    report = report or {}
    status = report.get("status")
    return status in CONTINUABLE or (status == "failed" and report.get("resumable") is True)


def metric_value(report: dict, name: str) -> float | None:
    """A metric of metrics.json by one name: `test_<m>` is the test split's <m>, any other name
    the value at the best epoch (`val_mae`, `loss`). None when the run has no finite value."""
    best, test = report.get("best"), report.get("test")
    if name.startswith("test_") and isinstance(test, dict) and name[5:] in test:
        value = test[name[5:]]
    else:
        value = best.get(name) if isinstance(best, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def compare_reference(reference: dict | None, report: dict) -> dict | None:
    """The book's figure beside ours: {metric, value, source, ours, difference = ours - value}."""
    if not reference:
        return None
    ours = metric_value(report, reference["metric"])
    difference = None if ours is None else ours - reference["value"]
    return {**reference, "ours": ours, "difference": difference}


def run_labels(cfg) -> dict:
    """The run's tags, note and reference figure from the composed config, checked: one
    paragraph naming every bad value and what is allowed."""
    from omegaconf import OmegaConf

    tags = cfg.get("tags")
    tags = [] if tags is None else OmegaConf.to_container(tags) if OmegaConf.is_list(tags) else tags
    note = cfg.get("note")
    reference = cfg.get("reference")
    reference = OmegaConf.to_container(reference) if OmegaConf.is_config(reference) else reference
    problems = []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        problems.append(f"tags={tags!r} must be a list of words, e.g. tags=[baseline,ablation]")
    if note is not None and not isinstance(note, str):
        problems.append(f'note={note!r} must be text or null, e.g. note="first try"')
    if reference is not None:
        shape = isinstance(reference, dict) and set(reference) == {"metric", "value", "source"}
        if not (
            shape
            and isinstance(reference["metric"], str)
            and isinstance(reference["source"], str)
            and isinstance(reference["value"], int | float)
            and not isinstance(reference["value"], bool)
        ):
            problems.append(
                f"reference={reference!r} must be null or {{metric: <a metric name such as "
                f"val_mae or test_accuracy>, value: <number>, source: <text>}}"
            )
    if problems:
        raise SeqexpError("Bad run label(s): " + "; ".join(problems) + ".")
    return {"tags": tags, "note": note, "reference": reference}


# ---- history.csv ----------------------------------------------------------------------------


def history_text(history: dict[str, list[float]]) -> str:
    """The history as CSVLogger lays it out: `epoch` (from 0), then the metrics sorted by name."""
    keys = sorted(history)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for epoch in range(len(history[keys[0]]) if keys else 0):
        writer.writerow([epoch, *(history[key][epoch] for key in keys)])
    return out.getvalue()


def write_history(run_dir: Path, history: dict[str, list[float]]) -> None:
    write_text(Path(run_dir) / HISTORY, history_text(history))


def read_history(run_dir: Path, epochs: int | None = None) -> dict[str, list[float]]:
    """history.csv as {metric: values} (missing file: {}; a torn or hand-edited one: DamagedFile).

    `epochs`: only the first `epochs` rows, and {} when the file holds fewer (resume then starts
    over rather than relabel epochs).
    """
    path = Path(run_dir) / HISTORY
    if epochs == 0 or not path.exists():
        return {}
    rows = csv_numbers(path, fix="Its epochs are also in train.log; restore the rows or delete the file.")
    if epochs is not None:
        if len(rows) < epochs:
            return {}
        rows = rows[:epochs]
    keys = [key for key in (rows[0] if rows else ()) if key != "epoch"]
    return {key: [row[key] for row in rows] for key in keys}


# ---- which folder may be used for what --------------------------------------------------------


def refuse_finished(run_dir: Path) -> None:
    """A folder that holds a finished run is never trained over: nothing written is lost."""
    checked_status(run_dir)  # a torn or hand-edited metrics.json is named, not taken as empty
    report = read_metrics(run_dir)
    if not may_continue(report):
        raise NotThisRun(
            f"hydra.run.dir={run_dir} already holds a run that ended with status "
            f"{report['status']!r} (see its metrics.json); training there again would overwrite "
            f"it. Choose another hydra.run.dir, or delete that folder to train it again."
        )


def saved_overrides(run_dir: Path) -> list[str] | None:
    """The command-line overrides a run was started with, or None: identity.json's (written by
    seqexp, never rewritten), else .hydra/overrides.yaml (runs of older versions)."""
    recorded = read_identity(run_dir)
    if recorded is not None and isinstance(recorded.get("overrides"), list):
        return [str(o) for o in recorded["overrides"]]
    path = Path(run_dir) / ".hydra" / "overrides.yaml"
    if not path.exists():
        return None
    fix = "The overrides are also at the top of train.log (the composed config); restore the file from them."
    return yaml_strings(path, fix=fix)


def quoted_override(key: str, value: str) -> str:
    """`key='value'` in Hydra's override grammar, for a value that may hold any character
    (a path with spaces, unicode, =, commas, brackets or quotes). Inside single quotes only a
    quote, and the backslashes right before a quote or at the end, are escaped."""
    escaped = re.sub(r"(\\*)(?='|$)", lambda m: m.group(1) * 2, value).replace("'", "\\'")
    return f"{key}='{escaped}'"


def task_overrides(args: list[str]) -> list[str]:
    """The overrides of a command line that shape the run (not hydra.*, not flags)."""
    return [a for a in args if not a.startswith(("-", "hydra.", "hydra/", "+hydra", "~hydra"))]


def check_run_dir(run_dir: Path, identity: dict, overrides: list[str]) -> None:
    """`hydra.run.dir`, resolved (seqexp.run.guard runs this before Hydra writes .hydra/), may
    hold an unfinished run of this same config (it continues), never a finished run or another
    config's run. `identity`: config_identity() of the config about to run."""
    refuse_finished(run_dir)
    recorded = read_identity(run_dir)
    if recorded is not None:
        refuse_other_config(run_dir, recorded, identity)
        return
    # A run of an older seqexp has no identity.json: its overrides must be these.
    status, saved = read_status(run_dir), saved_overrides(run_dir)
    if status is not None and saved is not None and sorted(task_overrides(overrides)) != sorted(saved):
        raise NotThisRun(
            f"hydra.run.dir={run_dir} holds an {status} run of other overrides "
            f"({' '.join(saved) or 'none'}), not these ({' '.join(task_overrides(overrides)) or 'none'}). "
            f"Continue it with `seqexp resume {run_dir}`, or choose another hydra.run.dir."
        )


def check_sweep_dir(sweep_dir: Path, overrides: list[str]) -> None:
    """A sweep runs into an existing `hydra.sweep.dir` only to continue the same sweep: the
    overrides it started with (multirun.yaml, which Hydra's sweeper writes) must be these, and
    none of its jobs may be finished (a new sweep would write into the same job folders)."""
    sweep_dir = Path(sweep_dir)
    finished = sorted(
        p.parent.name for p in sweep_dir.glob(f"*/{METRICS}") if read_status(p.parent) in FINISHED
    )
    if finished:
        raise NotThisRun(
            f"hydra.sweep.dir={sweep_dir} already holds {len(finished)} finished run(s) "
            f"({', '.join(finished[:5])}{', ...' if len(finished) > 5 else ''}); a new sweep there "
            f"would write into the same job folders. Choose another hydra.sweep.dir (the default "
            f"is a new timestamped folder), or delete that one to sweep again."
        )
    previous = sweep_overrides(sweep_dir)
    if previous is not None and sorted(previous) != sorted(overrides):
        there = [o for o in previous if o not in overrides]
        here = [o for o in overrides if o not in previous]
        raise NotThisRun(
            f"hydra.sweep.dir={sweep_dir} holds a sweep of other overrides ({' '.join(there) or 'none'} "
            f"there, {' '.join(here) or 'none'} here); its jobs would continue under the new values "
            f"and the summary would rank one config by another's results. Run the same command to "
            f"continue that sweep, or choose another hydra.sweep.dir."
        )


def sweep_overrides(sweep_dir: Path) -> list[str] | None:
    """The task overrides of the sweep in `sweep_dir` (its multirun.yaml), or None."""
    import yaml

    path = Path(sweep_dir) / "multirun.yaml"
    if not path.exists():
        return None
    try:
        saved = yaml.safe_load(path.read_text(encoding="utf-8"))["hydra"]["overrides"]["task"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as err:
        raise NotThisRun(
            f"{path} is not readable ({type(err).__name__}: {err}), so this sweep folder cannot be "
            f"told apart from another sweep's; choose another hydra.sweep.dir."
        ) from None
    return [str(o) for o in saved or []]


def check_resumable(run_dir: Path) -> tuple[list[str], str | None]:
    """(the overrides to replay, the status) of a run `seqexp resume` may continue."""
    overrides = saved_overrides(run_dir)
    if overrides is None:
        raise SeqexpError(
            f"{run_dir} is not a seqexp run directory: it has no .hydra/overrides.yaml. "
            "Give the folder of one run (e.g. outputs/<date>/<time>_<data>_<model>)."
        )
    checked_status(run_dir)  # a torn metrics.json is named, not taken as empty
    report = read_metrics(run_dir)
    if not may_continue(report):
        raise SeqexpError(
            f"{run_dir} has nothing to resume: it ended with status {report['status']!r} (see its "
            "metrics.json). Start a new run instead."
        )
    check_replayable(overrides, run_dir)
    return overrides, (report or {}).get("status")


# ---- finding run directories ------------------------------------------------------------------


def find_run_dirs(root: Path, unreadable: list[OSError] | None = None) -> list[Path]:
    """Run directories under root (root itself if it is one), sorted by path. A run's own
    subfolders (checkpoints/, .hydra/, tensorboard/) and hidden folders are not searched; a
    folder that cannot be listed (another user's) goes to `unreadable` when it is given."""
    found = []
    for here, dirs, files in os.walk(root, onerror=None if unreadable is None else unreadable.append):
        names = set(files) | set(dirs)
        if any(marker in names for marker in RUN_MARKERS):
            found.append(Path(here))
            dirs[:] = []
        elif "meta.yaml" in files:  # an MLflow file store's experiment or run: copies, not runs
            dirs[:] = []
        else:
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    return sorted(found)
