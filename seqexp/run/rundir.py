"""The run directory's own files and rules: the one writer of metrics.json, the reader and writer
of history.csv, and the status rules (which folder may be trained into, resumed, or is done).

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
from seqexp.errors import SeqexpError
from seqexp.readback import DamagedFile, csv_numbers, json_object, yaml_strings

METRICS = "metrics.json"
HISTORY = "history.csv"
# any of these makes a folder a run directory (env.json and train.log: a run that died early)
RUN_MARKERS = (METRICS, "env.json", "train.log", ".hydra")
FINISHED = ("completed", "stopped early", "pruned")  # statuses of a run with nothing left to train
# ("pruned": stopped by a search's pruner, seqexp.search; it keeps its history and curves)


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


def settle_status(run_dir: Path, status: str, reason: str) -> None:
    """Record how a run ended unless it already did: only a missing or 'running' status is
    replaced, so the reason train wrote, or an earlier finished run, stays as it is."""
    report = read_metrics(run_dir) or {}
    if report.get("status") not in (None, "running"):
        return
    write_metrics(run_dir, {**report, "status": status, "reason": reason})


def record_failure(run_dir: Path, err: BaseException) -> None:
    """A failed sweep job's metrics.json says failed and why (the summary reads it)."""
    settle_status(run_dir, "failed", failure_reason(err))


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
    status = checked_status(run_dir)
    if status in FINISHED or status == "failed":
        raise SeqexpError(
            f"hydra.run.dir={run_dir} already holds a run that ended with status {status!r} (see "
            f"its metrics.json); training there again would overwrite it. Choose another "
            f"hydra.run.dir, or delete that folder to train it again."
        )


def saved_overrides(run_dir: Path) -> list[str] | None:
    """The command-line overrides a run was started with (.hydra/overrides.yaml), or None."""
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


# Flags after which Hydra writes no run directory (or writes sweep directories instead).
NO_RUN_FLAGS = {
    "--cfg",
    "-c",
    "--help",
    "-h",
    "--hydra-help",
    "--info",
    "-i",
    "--multirun",
    "-m",
    "--shell-completion",
    "-sc",
}


def given_value(args: list[str], key: str) -> str | None:
    """The value the last `key=...` of a command line gives, as Hydra reads it: a quoted folder
    name (`hydra.run.dir='/runs/a=1,[2]'`) is the folder without its quotes."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    given = [a for a in args if a.startswith(f"{key}=")]
    if not given:
        return None
    try:
        value = OverridesParser.create().parse_override(given[-1]).value()
    except OverrideParseException:  # the Hydra app refuses it in one paragraph
        return given[-1].split("=", 1)[1]
    return value if isinstance(value, str) else given[-1].split("=", 1)[1]


def check_run_dir(args: list[str]) -> None:
    """Before Hydra writes anything: `hydra.run.dir=<dir>` may point at an interrupted run of the
    same overrides (it resumes), but never at a finished run or at another config's run."""
    if {"-m", "--multirun"} & set(args):
        check_sweep_dir(args)
    if NO_RUN_FLAGS & set(args):
        return
    given = given_value(args, "hydra.run.dir")
    if given is None or "${" in given:
        return
    run_dir = Path(given)
    refuse_finished(run_dir)
    status = read_status(run_dir)
    saved = saved_overrides(run_dir)
    if status is not None and saved is not None and sorted(task_overrides(args)) != sorted(saved):
        raise SeqexpError(
            f"hydra.run.dir={run_dir} holds an {status} run of other overrides "
            f"({' '.join(saved) or 'none'}), not these ({' '.join(task_overrides(args)) or 'none'}). "
            f"Continue it with `seqexp resume {run_dir}`, or choose another hydra.run.dir."
        )


def check_sweep_dir(args: list[str]) -> None:
    """A sweep never runs into `hydra.sweep.dir=<dir>` that holds finished runs: its jobs would
    land in the same job folders."""
    given = given_value(args, "hydra.sweep.dir")
    if given is None or "${" in given or "--cfg" in args or "-c" in args:
        return
    finished = sorted(
        p.parent.name for p in Path(given).glob(f"*/{METRICS}") if read_status(p.parent) in FINISHED
    )
    if finished:
        raise SeqexpError(
            f"hydra.sweep.dir={given} already holds {len(finished)} finished run(s) "
            f"({', '.join(finished[:5])}{', ...' if len(finished) > 5 else ''}); a new sweep there "
            f"would write into the same job folders. Choose another hydra.sweep.dir (the default "
            f"is a new timestamped folder), or delete that one to sweep again."
        )


def check_resumable(run_dir: Path) -> tuple[list[str], str | None]:
    """(the overrides to replay, the status) of a run `seqexp resume` may continue."""
    overrides = saved_overrides(run_dir)
    if overrides is None:
        raise SeqexpError(
            f"{run_dir} is not a seqexp run directory: it has no .hydra/overrides.yaml. "
            "Give the folder of one run (e.g. outputs/<date>/<time>_<data>_<model>)."
        )
    status = checked_status(run_dir)
    if status in FINISHED or status == "failed":
        raise SeqexpError(
            f"{run_dir} has nothing to resume: it ended with status {status!r} (see its "
            "metrics.json). Start a new run instead."
        )
    return overrides, status


# ---- finding run directories ------------------------------------------------------------------


def find_run_dirs(root: Path) -> list[Path]:
    """Run directories under root (root itself if it is one), sorted by path. A run's own
    subfolders (checkpoints/, .hydra/, tensorboard/) and hidden folders are not searched."""
    found = []
    for here, dirs, files in os.walk(root):
        names = set(files) | set(dirs)
        if any(marker in names for marker in RUN_MARKERS):
            found.append(Path(here))
            dirs[:] = []
        elif "meta.yaml" in files:  # an MLflow file store's experiment or run: copies, not runs
            dirs[:] = []
        else:
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    return sorted(found)
