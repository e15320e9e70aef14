"""The run directory's own files and rules: the one writer of metrics.json, the reader and writer
of history.csv, the run's identity (identity.json: the composed config it was made with, hashed),
its lock (run.lock: one process at a time), and the status rules (which folder may be trained
into, resumed, or is done).

Everything here is plain files and JSON: the sweep summary, `seqexp resume` and the CLI's
guards read run directories through this module without importing TensorFlow.
"""

from __future__ import annotations

import atexit
import copy
import csv
import hashlib
import io
import json
import math
import os
import re
import socket
import time
from contextlib import contextmanager
from pathlib import Path

from seqexp.atomic import write_text
from seqexp.errors import SeqexpError
from seqexp.readback import DamagedFile, csv_numbers, json_object, yaml_strings

METRICS = "metrics.json"
HISTORY = "history.csv"
IDENTITY = "identity.json"
LOCK = "run.lock"
# any of these makes a folder a run directory (env.json and train.log: a run that died early)
RUN_MARKERS = (METRICS, "env.json", "train.log", ".hydra")
FINISHED = ("completed", "stopped early", "pruned")  # statuses of a run with nothing left to train
# ("pruned": stopped by a search's pruner, seqexp.search; it keeps its history and curves)
# A run may be continued (`seqexp resume`, or the same command with hydra.run.dir=) when it is
# "running" (killed), "interrupted", or "failed" with `"resumable": true`: a failure outside
# training (a damaged backup, a torn file, a full disk) that is gone once its cause is. A run that
# failed in training (a nan loss) would fail again: it is done, like the FINISHED ones.
CONTINUABLE = (None, "running", "interrupted")


class NotThisRun(SeqexpError):
    """The folder holds another run, or a run that is done, or one in use: nothing was changed
    (a sweep records no failure into such a folder)."""


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


# ---- identity.json: the config a run directory was made with --------------------------------

# Keys that say where files go or how much is printed, not what is computed: a run moved to
# another disk, or continued with another cache folder or thread count, is the same run.
NOT_IDENTITY = ("paths", "trainer.verbose", "trainer.threads", "tags", "note")


def config_identity(cfg) -> dict:
    """The composed config as {dotted key: resolved value}, without NOT_IDENTITY; paths.run_dir
    reads "<run_dir>", so paths derived from it (callbacks.checkpoint.filepath) do not count."""
    from omegaconf import OmegaConf, open_dict

    cfg = copy.deepcopy(cfg)
    with open_dict(cfg):
        cfg.pop("hydra", None)
        if "paths" in cfg:
            cfg.paths.run_dir = "<run_dir>"
    flat = {}

    def walk(node, prefix: str) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            flat[prefix[:-1]] = node

    walk(OmegaConf.to_container(cfg, resolve=True), "")
    return {
        key: value
        for key, value in flat.items()
        if not key.endswith("cache_dir")
        and not any(key == name or key.startswith(f"{name}.") for name in NOT_IDENTITY)
    }


def digest(identity: dict) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def read_identity(run_dir: Path) -> dict | None:
    """identity.json of a run directory (None: there is none, a run of an older seqexp)."""
    path = Path(run_dir) / IDENTITY
    if not path.exists():
        return None
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        recorded = err
    if not isinstance(recorded, dict) or not isinstance(recorded.get("sha256"), str):
        raise NotThisRun(
            f"{path} is not readable (torn or edited by hand), so this run cannot be told apart "
            f"from another config's; nothing was changed. Restore the file, or choose another folder."
        )
    return recorded


def write_identity(run_dir: Path, identity: dict, overrides: list[str] | None) -> None:
    record = {"sha256": digest(identity), "overrides": overrides, "config": identity}
    write_text(Path(run_dir) / IDENTITY, json.dumps(record, indent=1, sort_keys=True, default=str) + "\n")


def refuse_other_config(run_dir: Path, recorded: dict, identity: dict) -> None:
    """Refuse to continue the run recorded in identity.json with another config, naming the keys
    that differ."""
    if recorded["sha256"] == digest(identity):
        return
    old = recorded.get("config") if isinstance(recorded.get("config"), dict) else {}
    unset = "(not set)"
    keys = sorted(k for k in old.keys() | identity.keys() if old.get(k, unset) != identity.get(k, unset))
    shown = "; ".join(f"{k}: {old.get(k, unset)!r} there, {identity.get(k, unset)!r} here" for k in keys[:6])
    raise NotThisRun(
        f"{run_dir} holds a run of another config ("
        + (
            f"{len(keys)} key(s) differ: {shown}{'; ...' if len(keys) > 6 else ''}"
            if keys
            else "its hash differs"
        )
        + f"); continuing it with this config would mix two runs. Continue it with `seqexp resume "
        f"{run_dir}` (its own config), or choose another folder."
    )


# ---- run.lock: one process per run directory ------------------------------------------------

_held: dict[Path, int] = {}  # the locks this process holds, and how many times


@contextmanager
def locked(run_dir: Path):
    """Hold the run directory's lock for the block (re-entrant within one process)."""
    acquire(run_dir)
    try:
        yield
    finally:
        release(run_dir)


def acquire(run_dir: Path) -> None:
    """Take run.lock: created with O_EXCL (one winner), holding the taker's pid and host. A lock
    of a dead process of this host is stale and taken over; any other refuses with NotThisRun."""
    path = Path(run_dir).resolve() / LOCK
    if path in _held:
        _held[path] += 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    for _ in range(5):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read_lock(path)
            if not _stale(path, holder):
                who = (
                    f"pid {holder['pid']} on {holder['host']}, since {holder.get('since')}" if holder else "?"
                )
                raise NotThisRun(
                    f"{run_dir} is in use by another seqexp process ({who}); two runs in one folder "
                    f"would overwrite each other's checkpoints and metrics. Wait for it to end, or, if "
                    f"that process is gone, delete {path}."
                ) from None
            _take_over(path, holder)
            continue
        with os.fdopen(fd, "w") as f:
            json.dump(me, f)
        _held[path] = 1
        return
    raise NotThisRun(f"Could not take {path}: other processes keep taking it; try again.")


def release(run_dir: Path) -> None:
    path = Path(run_dir).resolve() / LOCK
    if path not in _held:
        return
    _held[path] -= 1
    if _held[path] == 0:
        del _held[path]
        if (_read_lock(path) or {}).get("pid") == os.getpid():
            path.unlink(missing_ok=True)


@atexit.register
def release_all() -> None:
    """Give up every lock this process holds (the end of a Hydra app, or of the process)."""
    for path in list(_held):
        _held[path] = 1
        release(path.parent)


def _read_lock(path: Path) -> dict | None:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) and isinstance(holder.get("pid"), int) else None


def _stale(path: Path, holder: dict | None) -> bool:
    """A lock left by a process of this host that is gone (or by this process, outside `_held`:
    an earlier run here that ended without releasing it); an unreadable one older than a minute."""
    if holder is None:  # being written this instant, or its writer died before writing
        try:
            return time.time() - path.stat().st_mtime > 60
        except FileNotFoundError:
            return True
    if holder.get("host") != socket.gethostname():
        return False  # another machine's process: no way to tell from here
    if holder["pid"] == os.getpid():
        return True
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _take_over(path: Path, holder: dict | None) -> None:
    """Remove a stale lock, unless another process replaced it in the meantime (then it is put
    back: a rename moves the file atomically, a link restores it only if no lock is there)."""
    moved = path.with_name(f"{LOCK}.stale.{os.getpid()}")
    try:
        os.replace(path, moved)
    except FileNotFoundError:
        return  # someone else removed it: try to take it again
    if _read_lock(moved) != holder:  # a live lock taken since we read it
        try:
            os.link(moved, path)
        except FileExistsError:
            pass
    moved.unlink(missing_ok=True)


# ---- replaying a folder's overrides (seqexp resume) ------------------------------------------

# Modules an override may point a `_target_` at: everything else is code a handed-over folder
# would make `seqexp resume` import and run.
TRUSTED_TARGETS = ("seqexp.", "keras.", "hydra_plugins.")


def check_replayable(overrides: list[str], source: Path) -> None:
    """Overrides read from a folder (a shared scratch space, a colleague's run) choose options and
    values only: none may set hydra.* (callbacks, launcher, search path) or a `_target_` outside
    TRUSTED_TARGETS, directly or inside a mapping value."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    bad = []
    for text in overrides:
        try:
            override = parser.parse_override(text)
        except Exception as err:  # noqa: BLE001 - Hydra's parse errors have several types
            bad.append(f"{text!r} (not an override: {str(err).splitlines()[0]})")
            continue
        key = override.key_or_group
        if key.split("/")[0].split(".")[0] == "hydra":
            bad.append(f"{text!r} (sets Hydra itself, which can name code to run)")
        elif override.is_sweep_override():
            bad.append(f"{text!r} (a sweep; a run directory replays one value per key)")
        else:
            value = override.value()
            targets = [value] if key.split(".")[-1] == "_target_" else []
            targets += _targets_in(value)
            bad += [f"{text!r} (imports {t!r})" for t in targets if not str(t).startswith(TRUSTED_TARGETS)]
    if bad:
        raise SeqexpError(
            f"{source} asks to replay override(s) that could run code: {'; '.join(bad)}. `seqexp "
            f"resume` replays values and config options only; a _target_ must name a "
            f"{', '.join(t.rstrip('.') for t in TRUSTED_TARGETS)} function. Check where this folder "
            f"came from; nothing was run."
        )


def _targets_in(value) -> list:
    """Every `_target_` inside a mapping or list value of an override."""
    if isinstance(value, dict):
        own = [value["_target_"]] if "_target_" in value else []
        return own + [t for v in value.values() for t in _targets_in(v)]
    if isinstance(value, list):
        return [t for v in value for t in _targets_in(v)]
    return []


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
