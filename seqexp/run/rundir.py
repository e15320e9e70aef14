"""The run directory's own files and rules: the reader and writer of history.csv, and which folder
may be trained into, resumed, or is done (asking the run record, seqexp.run.record, the one
owner of metrics.json). What made the run (identity.json) is seqexp.run.identity; one process at
a time, seqexp.run.lock.

Everything here is plain files and JSON: the sweep summary, `seqexp resume` and the CLI's
guards read run directories through this module without importing TensorFlow.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

from seqexp.atomic import write_text
from seqexp.errors import NotThisRun, SeqexpError
from seqexp.readback import csv_numbers, yaml_strings
from seqexp.run.identity import check_replayable, read_identity, refuse_other_config
from seqexp.run.record import (
    METRICS,
    RunRecord,
    checked_record,
    read_record,
    read_status,
)

HISTORY = "history.csv"
# any of these makes a folder a run directory (env.json and train.log: a run that died early)
RUN_MARKERS = (METRICS, "env.json", "train.log", ".hydra")


# ---- metrics.json: the run record (seqexp.run.record), as the folder rules read it ------------


def read_metrics(run_dir: Path) -> dict | None:
    """A run directory's metrics.json as a dict (None: missing, torn or not a record)."""
    record = read_record(run_dir)
    return None if record is None else record.as_dict()


def may_continue(report: dict | RunRecord | None) -> bool:
    """Whether a run with this record (or none) may be continued (RunRecord.may_continue)."""
    if report is None:
        return True
    if isinstance(report, dict):
        try:
            report = RunRecord.model_validate(report)
        except ValueError:  # not a record seqexp wrote: nothing to continue
            return False
    return report.may_continue


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
    record = checked_record(run_dir)  # a torn or hand-edited metrics.json is named, not taken as empty
    if not may_continue(record):
        raise NotThisRun(
            f"hydra.run.dir={run_dir} already holds a run that ended with status "
            f"{record.status.value!r} (see its metrics.json); training there again would overwrite "
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


def check_resumable(run_dir: Path) -> tuple[list[str], str | None]:
    """(the overrides to replay, the status) of a run `seqexp resume` may continue."""
    overrides = saved_overrides(run_dir)
    if overrides is None:
        raise SeqexpError(
            f"{run_dir} is not a seqexp run directory: it has no .hydra/overrides.yaml. "
            "Give the folder of one run (e.g. outputs/<date>/<time>_<data>_<model>)."
        )
    record = checked_record(run_dir)  # a torn metrics.json is named, not taken as empty
    if not may_continue(record):
        raise SeqexpError(
            f"{run_dir} has nothing to resume: it ended with status {record.status.value!r} (see its "
            "metrics.json). Start a new run instead."
        )
    check_replayable(overrides, run_dir)
    return overrides, None if record is None else record.status


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
