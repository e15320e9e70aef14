"""`seqexp diff RUN_A RUN_B`: the composed-config keys that differ, then the metrics and the
environment of the two runs side by side. Reads run directories only (no TensorFlow)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from seqexp.errors import SeqexpError
from seqexp.readback import DamagedFile, yaml_object
from seqexp.run.identity import flatten
from seqexp.run.rundir import RUN_MARKERS
from seqexp.summary.runs import Run, fmt
from seqexp.summary.values import number
from seqexp.table import render


def _cell(value) -> str:
    if isinstance(value, list | dict):
        return json.dumps(value)
    return fmt(value)


def open_run(path: Path | str) -> Run:
    path = Path(path)
    if not path.is_dir() or not any((path / marker).exists() for marker in RUN_MARKERS):
        raise SeqexpError(
            f"{path} is not a run directory (it has none of {', '.join(RUN_MARKERS)}); give "
            f"the folder of one run, as `seqexp runs` lists them."
        )
    return Run.read(path, path.parent)


def config_problem(run: Run) -> str | None:
    """Why a run's .hydra/config.yaml cannot be compared (missing, not YAML, not a mapping), or
    None. Such a config is not compared key by key: every key would read as "(absent)"."""
    if run.config:
        return None
    try:
        yaml_object(run.path / ".hydra" / "config.yaml")
    except DamagedFile as err:
        return f".hydra/config.yaml: {err.problem}"
    return None  # an empty mapping: a config with no keys compares as one


def diff(a: Run, b: Run) -> dict:
    """{"config": [(key, a, b)] of the composed-config keys that differ (none when a side's
    config is unreadable: "config_problems" says why), "metrics": [(key, a, b)] side by side,
    "environment": [(key, a, b)] side by side}."""
    problems = {side: p for side, run in (("A", a), ("B", b)) if (p := config_problem(run))}
    config_a, config_b = ({}, {}) if problems else (flatten(a.config), flatten(b.config))
    missing = object()
    config = [
        (k, config_a.get(k, missing), config_b.get(k, missing))
        for k in dict.fromkeys([*config_a, *config_b])
        if config_a.get(k, missing) != config_b.get(k, missing)
    ]
    config = [(k, "(absent)" if x is missing else x, "(absent)" if y is missing else y) for k, x, y in config]

    def side_by_side(pairs):
        keys = list(dict.fromkeys([*pairs[0], *pairs[1]]))
        return [(k, pairs[0].get(k), pairs[1].get(k)) for k in keys]

    def metrics(run: Run) -> dict:
        m = run.metrics
        out = {
            "status": run.state,
            "monitor": run.monitor,
            "best_epoch": run.get("best_epoch", int),
            "epochs_run": run.get("epochs_run", int),
            "wall_time_s": number(m.get("wall_time_s")),
        }
        for part in ("best", "test"):
            values = m.get(part) if isinstance(m.get(part), dict) else {}
            out.update({f"{part}.{k}": number(v) for k, v in values.items()})
        ref = run.reference
        if ref:
            out.update({f"reference.{k}": ref.get(k) for k in ("metric", "value", "ours", "difference")})
        out.update(tags=",".join(run.tags) or None, note=run.note)  # labels set after the run included
        return out

    return {
        "config": config,
        "metrics": side_by_side([metrics(a), metrics(b)]),
        "environment": side_by_side([a.env, b.env]),
        "config_problems": problems,
    }


def diff_text(a: Run, b: Run, form: str = "table", terminal: bool = False, plot: Path | None = None) -> str:
    """The difference as table (rich/plain), csv (section,key,a,b), json or md; `plot`: the figure
    of both runs' curves, named at the end (json: "plot")."""
    parts = diff(a, b)
    problems = parts.pop("config_problems")
    if form == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["section", "key", str(a.path), str(b.path)])
        cell = lambda v: "" if v is None else _cell(v)  # noqa: E731 - a missing value is an empty field
        writer.writerows([name, key, cell(x), cell(y)] for name, rows in parts.items() for key, x, y in rows)
        writer.writerows(["config_not_compared", side, why, ""] for side, why in problems.items())
        return out.getvalue()
    if form == "json":
        return (
            json.dumps(
                {
                    "a": str(a.path),
                    "b": str(b.path),
                    "plot": None if plot is None else str(plot),
                    **{k: [{"key": key, "a": x, "b": y} for key, x, y in v] for k, v in parts.items()},
                    "config_not_compared": problems,
                },
                indent=2,
                default=str,
            )
            + "\n"
        )
    headers = ["key", f"A: {a.path}", f"B: {b.path}"]
    changed = len(parts["config"])
    titles = {
        "config": f"composed config (.hydra/config.yaml): {changed} key(s) differ",
        "metrics": "metrics (metrics.json); * marks a difference",
        "environment": "environment (env facts in metrics.json); * marks a difference",
    }
    out = []
    for name, rows in parts.items():
        if name == "config" and problems:
            why = "; ".join(f"{side} ({(a if side == 'A' else b).path}) {p}" for side, p in problems.items())
            out.append(f"composed config: not compared, {why}\n")
            continue
        if name == "config" and not rows:
            out.append(f"{titles[name]}\n")
            continue
        mark = (lambda x, y: "" if x == y else " *") if name != "config" else (lambda x, y: "")
        lines = [[key + mark(x, y), _cell(x), _cell(y)] for key, x, y in rows]
        out.append(render(headers, lines, "md" if form == "md" else "table", titles[name], terminal))
    if plot is not None:
        out.append(f"curves (loss and monitored metric, training and validation): {plot}\n")
    return "\n".join(out)
