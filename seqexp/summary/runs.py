"""Every run under a folder as one table, and two runs side by side: `seqexp runs`, `seqexp diff`.

A run directory is found by what seqexp and Hydra write into it (metrics.json, env.json,
train.log, .hydra/); its row is read from metrics.json and .hydra/overrides.yaml only, and the
composed config (.hydra/config.yaml) is read only for `--where` and `diff`, so a thousand runs
list in a fraction of a second. A folder with no metrics.json, a torn or hand-edited one, or a
run still running is listed with that state: nothing here raises on a broken folder.

Plain files only: neither TensorFlow nor matplotlib is imported (seqexp.table draws the table).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from seqexp.errors import SeqexpError
from seqexp.readback import DamagedFile
from seqexp.run.environment import read_env
from seqexp.run.labels import Labels, read_labels
from seqexp.run.monitor import best_mode
from seqexp.run.record import checked_record, metric_value
from seqexp.run.rundir import find_run_dirs
from seqexp.summary.values import number
from seqexp.table import render

NO_METRICS = "no metrics.json"
UNREADABLE = "unreadable metrics.json"
UNREADABLE_FOLDER = "unreadable folder"  # cannot be listed (another user's): listed, not left out
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it: 10x faster


def _load_yaml(path: Path):
    try:
        with path.open() as f:
            return yaml.load(f, Loader=Loader)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError):
        return None


@dataclass
class Run:
    """One run directory as the table sees it; every accessor copes with a broken metrics.json."""

    path: Path
    name: str  # relative to the folder listed
    metrics: dict = field(default_factory=dict)
    state: str = NO_METRICS  # the status in metrics.json, or why there is none
    reason: str = ""
    labels: Labels = field(default_factory=Labels)  # tags, note, archived set after the run
    _config: dict | None = field(default=None, repr=False)
    _settings: dict = field(default_factory=dict, repr=False)

    @classmethod
    def read(cls, path: Path, root: Path) -> Run:
        name = path.relative_to(root).as_posix() if path != root else path.name
        run = cls(path, name, labels=read_labels(path))
        try:
            record = checked_record(path)
        except DamagedFile as err:
            run.state, run.reason = UNREADABLE, f"torn or hand-edited: {err.problem}"
            return run
        if record is None:
            has_hydra = (path / ".hydra").is_dir()
            run.reason = (
                "started, or killed before training began" if has_hydra else "not a seqexp run directory"
            )
            return run
        run.metrics = record.as_dict()
        run.state = "unknown" if record.status is None else record.status.value
        run.reason = record.reason or ""
        return run

    def get(self, key: str, kind: type = str):
        value = self.metrics.get(key)
        return value if isinstance(value, kind) and not isinstance(value, bool) else None

    @property
    def env(self) -> dict:
        env = self.metrics.get("env")
        return env if isinstance(env, dict) else {}

    @property
    def started(self) -> str:
        """When the run started: env facts, else the Hydra folder name (2026-01-31/12-00-00),
        else the folder's time."""
        started = self.env.get("started")
        if isinstance(started, str):
            return started[:19].replace("T", " ")
        match = re.search(r"(\d{4}-\d{2}-\d{2})/(\d{2})-(\d{2})-(\d{2})", self.path.as_posix())
        if match:
            return f"{match[1]} {match[2]}:{match[3]}:{match[4]}"
        try:
            return dt.datetime.fromtimestamp(self.path.stat().st_mtime).isoformat(" ", "seconds")
        except OSError:
            return ""

    @property
    def monitor(self) -> str | None:
        return self.get("monitor")

    def value(self, metric: str) -> float | None:
        """A metric by name: test_<m> from the test split, any other from the best epoch."""
        return metric_value(self.metrics, metric)

    @property
    def best(self) -> float | None:
        return self.value(self.monitor) if self.monitor else None

    @property
    def test(self) -> float | None:
        return self.value("test_" + self.monitor.removeprefix("val_")) if self.monitor else None

    @property
    def tags(self) -> list[str]:
        """The launch-time tags (metrics.json) with those added and removed since (labels.json)."""
        tags = self.metrics.get("tags")
        return self.labels.tags_of([str(t) for t in tags] if isinstance(tags, list) else [])

    @property
    def note(self) -> str | None:
        return self.labels.note_of(self.get("note"))

    @property
    def archived(self) -> bool:
        return self.labels.archived

    @property
    def reference(self) -> dict:
        reference = self.metrics.get("reference")
        return reference if isinstance(reference, dict) else {}

    @property
    def overrides(self) -> list[str]:
        """What the run was started with: .hydra/overrides.yaml, else the overrides in env.json."""
        saved = _load_yaml(self.path / ".hydra" / "overrides.yaml")
        if isinstance(saved, list):
            return [str(o) for o in saved]
        saved = (read_env(self.path) or {}).get("overrides")
        return [str(o) for o in saved] if isinstance(saved, list) else []

    @property
    def config(self) -> dict:
        """The composed config Hydra saved (.hydra/config.yaml), {} when there is none."""
        if self._config is None:
            loaded = _load_yaml(self.path / ".hydra" / "config.yaml")
            self._config = loaded if isinstance(loaded, dict) else {}
        return self._config

    def settings(self, keys: tuple[str, ...]) -> dict[str, tuple[bool, object]]:
        """{key: (found, value)} of dotted keys of the composed config (list items by index:
        model.units.0), for `--where`. PyYAML's C parser builds the node tree and only the nodes
        asked for become Python values: twice as fast as loading the whole config. The tree is
        not kept (a thousand of them make the garbage collector crawl); the answers are."""
        missing = tuple(k for k in keys if k not in self._settings)
        if missing:
            try:
                with (self.path / ".hydra" / "config.yaml").open() as f:
                    loader = Loader(f)
                    try:
                        root = loader.get_single_node()
                    finally:
                        loader.dispose()
            except (OSError, yaml.YAMLError):
                root = None
            self._settings.update({key: _find(root, key) for key in missing})
        return {key: self._settings[key] for key in keys}

    def row(self, extra: str | None = None) -> dict:
        """The run's line of the table; `extra` adds one more metric column (the sort key)."""
        ref = self.reference
        row = {
            "run": self.name, "date": self.started, "data": self.get("data") or "",
            "model": self.get("model") or "", "backend": self.env.get("backend") or "", "status": self.state,
            "best_epoch": self.get("best_epoch", int), "monitor": self.monitor or "", "best": self.best,
            "test": self.test, "wall_time_s": number(self.metrics.get("wall_time_s")),
            "tags": ",".join(self.tags), "reference_metric": ref.get("metric") or "",
            "ours": number(ref.get("ours")), "book": number(ref.get("value")),
            "difference": number(ref.get("difference")), "source": ref.get("source") or "",
            "note": self.note or "", "archived": self.archived, "overrides": " ".join(self.overrides),
            "reason": self.reason,
        }  # fmt: skip
        if extra and extra not in row:
            row[extra] = self.value(extra)
        return row


def _find(node: yaml.Node | None, key: str) -> tuple[bool, object]:
    for part in key.split("."):
        if isinstance(node, yaml.MappingNode):
            node = next(
                (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None
            )
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
        else:
            node = None
        if node is None:
            return False, None
    return True, yaml.constructor.SafeConstructor().construct_object(node, deep=True)


# ---- finding and filtering ---------------------------------------------------------------------


def read_runs(root: Path | str) -> list[Run]:
    root = Path(root)
    if not root.is_dir():
        raise SeqexpError(
            f"{root} is not a folder; give the folder your runs are in (by default "
            f"outputs/, where `seqexp train` writes them)."
        )
    unreadable: list[OSError] = []
    runs = [Run.read(path, root) for path in find_run_dirs(root, unreadable)]
    for err in unreadable:  # whether it holds a run cannot be told: it is shown, named
        path = Path(err.filename) if err.filename else root
        name = path.relative_to(root).as_posix() if path != root else path.name
        reason = f"cannot be opened ({err.strerror or err}); runs inside it, if any, are not shown"
        runs.append(Run(path, name, state=UNREADABLE_FOLDER, reason=reason))
    return sorted(runs, key=lambda run: run.path)


WHERE = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(==|!=|>=|<=|>|<|=)\s*(.*?)\s*$")
ORDERING = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le}


@dataclass(frozen=True)
class Where:
    """One `--where KEY OP VALUE` test on the composed config, e.g. model.dropout>0.1."""

    key: str
    op: str
    value: object
    text: str

    @classmethod
    def parse(cls, text: str) -> Where:
        match = WHERE.match(text)
        if not match:
            raise SeqexpError(
                f"--where {text!r} is not KEY OP VALUE; OP is one of == != > < >= <= "
                f"and KEY a dotted key of the composed config, e.g. --where 'model.dropout>0.1'."
            )
        key, op, raw = match.groups()
        try:
            value = yaml.load(raw, Loader=Loader) if raw else None  # noqa: S506 - a safe loader
        except yaml.YAMLError:
            value = raw
        if op in ORDERING and number(value) is None:
            raise SeqexpError(
                f"--where {text!r}: {op} compares numbers, and {raw!r} is not one; use == "
                f"or != for words, e.g. --where 'optimizer._target_==keras.optimizers.Adam'."
            )
        return cls(key, "==" if op == "=" else op, value, text)

    def holds(self, run: Run) -> bool:
        found, value = run.settings((self.key,))[self.key]
        if not found:
            return False
        if self.op in ORDERING:
            return number(value) is not None and ORDERING[self.op](float(value), float(self.value))
        same = value == self.value or (
            number(value) is not None and number(self.value) is not None and float(value) == float(self.value)
        )
        return same if self.op == "==" else not same


ARCHIVED = ("hide", "only", "all")


def select(runs: list[Run], data=(), model=(), status=(), tags=(), where=(), archived="hide") -> list[Run]:
    """The runs every given filter keeps (several values of one filter: any of them); archived
    runs are hidden, the only ones kept, or kept with the others (`archived`: one of ARCHIVED)."""
    tests = [Where.parse(w) for w in where]
    keys = tuple(dict.fromkeys(test.key for test in tests))
    kept = [
        r
        for r in runs
        if (not data or r.get("data") in data)
        and (not model or r.get("model") in model)
        and (not status or r.state in status)
        and all(t in r.tags for t in tags)
        and (archived == "all" or r.archived == (archived == "only"))
    ]
    for test in tests:
        if not any(r.settings(keys)[test.key][0] for r in kept):
            raise SeqexpError(
                f"--where {test.text!r}: no run here has the key {test.key} in its composed "
                f"config (.hydra/config.yaml); `seqexp diff` or `seqexp train --cfg job` "
                f"shows the keys."
            )
        kept = [r for r in kept if test.holds(r)]
    return kept


def order(runs: list[Run], sort: str) -> list[Run]:
    """Newest first (sort=date), else by a metric, best first (min or max by Keras' rule), runs
    without that metric last."""
    if sort == "date":
        return sorted(runs, key=lambda r: r.started, reverse=True)
    if sort == "wall_time":
        return sorted(runs, key=lambda r: number(r.metrics.get("wall_time_s")) or math.inf)
    with_value = [r for r in runs if r.value(sort) is not None]
    if runs and not with_value:
        known = sorted({k for r in runs for k in _metric_names(r)})
        raise SeqexpError(
            f"--sort {sort}: no run here logged it. Sort by date, wall_time or a metric: "
            f"{', '.join(known) or 'none yet'} (test_<name> is the test split's)."
        )
    sign = -1 if best_mode(sort) == "max" else 1
    ranked = sorted(with_value, key=lambda r: sign * r.value(sort))
    return ranked + [r for r in runs if r.value(sort) is None]


def _metric_names(run: Run) -> list[str]:
    best, test = run.metrics.get("best"), run.metrics.get("test")
    names = list(best) if isinstance(best, dict) else []
    return names + ([f"test_{k}" for k in test] if isinstance(test, dict) else [])


# ---- output --------------------------------------------------------------------------------------

# The table's columns: (row key, heading); the note is added when a run has one, the reason and
# the reference's source go to csv/json only.
COLUMNS = [
    ("run", "run"),
    ("date", "date"),
    ("data", "data"),
    ("model", "model"),
    ("backend", "backend"),
    ("status", "status"),
    ("best_epoch", "epoch"),
    ("monitor", "monitor"),
    ("best", "best"),
    ("test", "test"),
    ("wall_time_s", "time (s)"),
    ("tags", "tags"),
    ("reference_metric", "ref. metric"),
    ("ours", "ours"),
    ("book", "book"),
    ("difference", "ours - book"),
    ("overrides", "overrides"),
]


def fmt(value) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"
    return str(value)


def _yes(value: bool) -> str:
    return "yes" if value else "–"


def _signed(value) -> str:
    return "–" if value is None else f"{value:+.4g}"


CELLS = {"difference": _signed, "archived": _yes}  # columns not drawn by fmt


def table_columns(rows: list[dict], extra: str | None) -> list[tuple[str, str]]:
    """The columns worth showing: the sort metric's own column, the reference columns only when
    a run has a reference, the note when one has a note, archived when one is."""
    columns = list(COLUMNS)
    if extra and extra not in dict(COLUMNS) and any(extra in row for row in rows):
        columns.insert(columns.index(("test", "test")) + 1, (extra, extra))
    if not any(row["reference_metric"] for row in rows):
        columns = [c for c in columns if c[0] not in ("reference_metric", "ours", "book", "difference")]
    if any(row["note"] for row in rows):
        columns.insert(-1, ("note", "note"))  # the overrides, the longest cell, stay last
    if any(row["archived"] for row in rows):
        columns.insert(columns.index(("status", "status")) + 1, ("archived", "archived"))
    return columns


def runs_text(runs: list[Run], form: str = "table", extra: str | None = None, terminal: bool = False) -> str:
    """The runs as table (rich/plain), csv, json or md."""
    rows = [run.row(extra) for run in runs]
    if form == "json":
        return json.dumps(rows, indent=2) + "\n"
    if form == "csv":
        fields = list(dict.fromkeys(k for row in rows for k in row)) or [c for c, _ in COLUMNS]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
        return out.getvalue()
    columns = table_columns(rows, extra)
    lines = [[CELLS.get(key, fmt)(row.get(key)) for key, _ in columns] for row in rows]
    return render([heading for _, heading in columns], lines, form, terminal=terminal)
