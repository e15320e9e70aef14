"""Sweep summaries: one table and one figure that compare the jobs of a sweep or a folder of runs.

`SweepSummary` is the Hydra callback (registered in conf/hydra/default.yaml) that writes
summary.csv, summary.md and comparison.png at the sweep root when a multirun ends;
`seqexp summarize <dir>` rebuilds them from the run directories alone, e.g. after an
interrupted sweep. Everything is read from each run's metrics.json, history.csv and .hydra/,
so neither imports TensorFlow.
"""

from __future__ import annotations

import csv
import logging
import math
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hydra.experimental.callback import Callback

from seqexp.atomic import replacing, write_text
from seqexp.errors import SeqexpError
from seqexp.readback import DamagedFile, yaml_strings
from seqexp.run.monitor import best_mode
from seqexp.run.record import Status, checked_record
from seqexp.run.rundir import find_run_dirs, read_history
from seqexp.summary.values import number, short
from seqexp.table import on_terminal, render

log = logging.getLogger(__name__)

NO_METRICS = "no metrics.json (still running, killed, or crashed before writing it)"


@dataclass
class Job:
    """One run directory as the summary sees it."""

    run_dir: Path
    name: str  # path relative to the summarised folder
    overrides: list[str]
    metrics: dict
    config: dict
    label: str = ""
    swept: dict = field(default_factory=dict)
    index: int = 0  # position in the sweep (job number order)

    @property
    def status(self) -> str:
        return self.metrics.get("status") or "unknown"

    @property
    def reason(self) -> str:
        if not self.metrics:
            return NO_METRICS
        return self.metrics.get("reason") or ""

    @property
    def ok(self) -> bool:
        """A finished run (completed, stopped early, or pruned by a search): ranked by its numbers."""
        status = Status.of(self.metrics.get("status"))
        return status is not None and status.finished

    @property
    def monitor(self) -> str | None:
        return self.metrics.get("monitor") or self.config.get("trainer", {}).get("monitor")

    @property
    def mode(self) -> str:
        """min or max, by the rule training used (seqexp.run.monitor)."""
        mode = self.metrics.get("mode") or self.config.get("trainer", {}).get("mode", "auto")
        return best_mode(self.monitor or "", mode)

    @property
    def best(self) -> float | None:
        return number((self.metrics.get("best") or {}).get(self.monitor))

    @property
    def best_epoch(self) -> int | None:
        """The checkpointed epoch, from 1 (None: no epoch was best, e.g. the naive baseline)."""
        epoch = number(self.metrics.get("best_epoch"))
        return None if epoch is None else int(epoch)

    @property
    def test(self) -> float | None:
        name = (self.monitor or "").removeprefix("val_")
        return number((self.metrics.get("test") or {}).get(name))

    @property
    def status_text(self) -> str:
        """completed / stopped early / failed: reason."""
        if self.ok:
            return self.status
        return f"{self.status}: {self.reason}" if self.reason else self.status

    @property
    def reference(self) -> dict:
        """The book's figure beside ours (metrics.json "reference"), {} when the run has none."""
        reference = self.metrics.get("reference")
        return reference if isinstance(reference, dict) else {}

    def history(self) -> dict[str, list[float]]:
        try:
            return read_history(self.run_dir)
        except DamagedFile as err:  # the job's curves are left out, its row stays
            log.warning("%s", err)
            return {}


@dataclass
class Summary:
    root: Path
    jobs: list[Job]  # ranked: best monitored value first, failed jobs last
    swept_keys: list[str]
    files: list[Path]
    optuna: dict | None = None

    @property
    def failed(self) -> list[Job]:
        return [job for job in self.jobs if not job.ok]


def _load_yaml(path: Path):
    """A YAML file of a job (None: missing; a torn one is named in the log and left out)."""
    if not path.exists():
        return None
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        log.warning("%s is damaged or was edited by hand and is left out of the summary: %s", path, err)
        return None


def find_runs(root: Path) -> list[Path]:
    """The run directories under root (seqexp.run.rundir.find_run_dirs), jobs in number order."""

    def order(path: Path):
        name = path.relative_to(root).as_posix()
        head = name.split("/")[-1].split("_")[0]
        return (str(path.parent), int(head) if head.isdigit() else math.inf, name)

    return sorted(find_run_dirs(root), key=order)


def load_job(run_dir: Path, root: Path) -> Job:
    overrides_path = run_dir / ".hydra" / "overrides.yaml"
    # One damaged job is listed as failed, naming the file; the summary of the others goes on.
    try:
        record = checked_record(run_dir)
        metrics = {} if record is None else record.as_dict()
    except DamagedFile as err:
        metrics = {"status": "failed", "reason": f"{err.path.name}: {err.problem}"}
    try:
        overrides = yaml_strings(overrides_path) if overrides_path.exists() else []
    except DamagedFile as err:  # what the job ran is unknown: its numbers cannot be ranked
        metrics, overrides = {**metrics, "status": "failed", "reason": f"{err.path.name}: {err.problem}"}, []
    config = _load_yaml(run_dir / ".hydra" / "config.yaml") or {}
    name = run_dir.relative_to(root).as_posix() if run_dir != root else run_dir.name
    return Job(run_dir, name, [str(o) for o in overrides], metrics, config)


def split_override(override: str) -> tuple[str, str]:
    key, _, value = override.partition("=")
    return key.lstrip("+~"), value


def label_jobs(jobs: list[Job]) -> list[str]:
    """Label each job by the overrides that differ between jobs (the swept parameters)."""
    parsed = [dict(split_override(o) for o in job.overrides) for job in jobs]
    keys = []
    for overrides in parsed:
        keys += [k for k in overrides if k not in keys]
    swept = [k for k in keys if len({p.get(k) for p in parsed}) > 1]
    for job, overrides in zip(jobs, parsed, strict=True):
        job.swept = {k: overrides.get(k, "") for k in swept}
        shown = job.swept if swept else overrides
        job.label = " ".join(f"{k}={short(v)}" for k, v in shown.items() if v != "")
        job.label = job.label or "(defaults)"
    return swept


def rank(jobs: list[Job]) -> list[Job]:
    """Best monitored value first (min or max as the monitor says), jobs without a value last."""
    with_value = [j for j in jobs if j.ok and j.best is not None]
    monitors = [j.monitor for j in with_value]
    main = max(set(monitors), key=monitors.count) if monitors else None
    same = [j for j in with_value if j.monitor == main]
    sign = -1 if same and same[0].mode == "max" else 1
    ranked = sorted(same, key=lambda j: sign * j.best)
    return ranked + [j for j in jobs if j not in ranked]


def csv_rows(summary: Summary) -> list[dict]:
    best_keys, test_keys = [], []
    for job in summary.jobs:
        best_keys += [k for k in (job.metrics.get("best") or {}) if k not in best_keys]
        test_keys += [k for k in (job.metrics.get("test") or {}) if k not in test_keys]
    rows = []
    for position, job in enumerate(summary.jobs, start=1):
        m = job.metrics
        row = {
            "rank": position if job.ok and job.best is not None else "",
            "job": job.name,
            "overrides": job.label,
            **job.swept,
            "status": job.status,
            "reason": job.reason,
            "monitor": job.monitor or "",
            "best_epoch": m.get("best_epoch", ""),
            "epochs_run": m.get("epochs_run", ""),
            "best": _blank(job.best),
            "test": _blank(job.test),
            "wall_time_s": _blank(number(m.get("wall_time_s"))),
        }
        row.update({f"best.{k}": _blank(number((m.get("best") or {}).get(k))) for k in best_keys})
        row.update({f"test.{k}": _blank(number((m.get("test") or {}).get(k))) for k in test_keys})
        if any(j.reference for j in summary.jobs):
            ref = job.reference
            row.update(
                reference_metric=ref.get("metric", ""),
                ours=_blank(number(ref.get("ours"))),
                book=_blank(number(ref.get("value"))),
                difference=_blank(number(ref.get("difference"))),
                source=ref.get("source", ""),
            )
        row["all_overrides"] = " ".join(job.overrides)
        rows.append(row)
    return rows


def _blank(value):
    return "" if value is None else value


def _fmt(value, digits=4) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _signed(value) -> str:
    return "–" if value is None else f"{value:+.4g}"


def write_csv(summary: Summary, path: Path) -> Path:
    rows = csv_rows(summary)
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with replacing(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def headline(summary: Summary) -> tuple[str, list[str]]:
    """The monitored metric and the lines above the table: job counts, the best job, the best
    Optuna trial (names in `backticks`, labels in **bold**, as Markdown writes them)."""
    jobs = summary.jobs
    counts = {}
    for job in jobs:
        counts[job.status] = counts.get(job.status, 0) + 1
    monitor = next((j.monitor for j in jobs if j.best is not None), None)
    monitor = monitor or next((j.monitor for j in jobs if j.monitor), "value")
    lines = [f"{len(jobs)} jobs: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + "."]
    top = jobs[0] if jobs and jobs[0].best is not None else None
    if top is not None:
        lines.append(
            f"**Best:** `{top.name}` ({top.label}): {monitor} = {_fmt(top.best)} at epoch "
            f"{top.metrics.get('best_epoch')}, test {monitor.removeprefix('val_')} = "
            f"{_fmt(top.test)}."
        )
    if summary.optuna:
        best_params = summary.optuna.get("best_params") or {}
        params = ", ".join(f"{k}={v}" for k, v in best_params.items())
        value = number(summary.optuna.get("best_value"))
        trial = next(
            (
                j
                for j in jobs
                if j.best is not None and value is not None and math.isclose(j.best, value, rel_tol=1e-9)
            ),
            None,
        )
        where = f", run `{trial.name}`" if trial else ""
        lines.append(f"**Best Optuna trial:** {params} (value {_fmt(value)}{where}).")
    return monitor, lines


def table(summary: Summary, monitor: str) -> tuple[list[str], list[list[str]]]:
    """The headers and cells of the summary table, one row per job, best first."""
    jobs = summary.jobs
    test_name = (monitor or "").removeprefix("val_")
    header = [
        "rank",
        "job",
        "overrides",
        "status",
        "best epoch",
        f"best {monitor}",
        f"test {test_name}",
        "wall time (s)",
    ]
    references = any(job.reference for job in jobs)  # ours beside the book's, where a preset has one
    if references:
        header += ["metric", "ours", "book", "ours − book", "source"]
    rows = []
    for position, job in enumerate(jobs, start=1):
        cells = [
            str(position) if job.best is not None and job.ok else "–",
            job.name,
            job.label,
            job.status,
            _fmt(job.metrics.get("best_epoch")),
            _fmt(job.best),
            _fmt(job.test),
            _fmt(number(job.metrics.get("wall_time_s")), 3),
        ]
        if references:
            ref = job.reference
            cells += [
                ref.get("metric") or "–",
                _fmt(number(ref.get("ours"))),
                _fmt(number(ref.get("value"))),
                _signed(number(ref.get("difference"))),
                ref.get("source") or "–",
            ]
        rows.append(cells)
    return header, rows


def markdown(summary: Summary) -> str:
    monitor, heads = headline(summary)
    lines = [f"# Sweep summary: {summary.root}", ""]
    lines += [x for head in heads for x in (head, "")]
    header, rows = table(summary, monitor)
    for job, cells in zip(summary.jobs, rows, strict=True):
        cells[1] = f"`{cells[1]}`"
        cells[3] = cells[3] if job.ok else f"**{cells[3]}**"
    lines.append(render(header, rows, "md").rstrip("\n"))
    if summary.failed:
        lines += ["", "## Failed jobs", ""]
        lines += [f"- `{job.name}` ({job.label}): {job.status_text}" for job in summary.failed]
    lines += [
        "",
        "Files: summary.csv (every metric, one row per job), comparison.png "
        "(validation curves; swept parameters against the best value).",
        "",
    ]
    return "\n".join(lines)


def summary_text(summary: Summary, terminal: bool = False) -> str:
    """What `seqexp summarize` and the end of a sweep print: the headline, the table (rich on a
    terminal, plain text in a pipe), the failed jobs and the files written."""
    monitor, heads = headline(summary)
    heads = [h.replace("**", "").replace("`", "") for h in heads]
    out = [f"Sweep summary: {summary.root}", *heads, ""]
    header, rows = table(summary, monitor)
    out.append(render(header, rows, "table", terminal=terminal).rstrip("\n"))
    out += [f"failed: {job.name} ({job.label}): {job.status_text}" for job in summary.failed]
    out.append("wrote " + ", ".join(str(p) for p in summary.files))
    return "\n".join(out) + "\n"


def summarize(root: Path | str, out_dir: Path | str | None = None) -> Summary:
    """Read every run under root and write summary.csv, summary.md and comparison.png."""
    from seqexp.summary.comparison import plot_comparison  # matplotlib, only here

    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise SeqexpError(
            f"{root} is not a directory; give a sweep directory "
            "(e.g. outputs/multirun/<date>/<time>) or any folder of run directories."
        )
    runs = find_runs(root)
    if not runs:
        raise SeqexpError(
            f"No run directories under {root}: a run directory holds metrics.json "
            "or .hydra/overrides.yaml. Give a sweep directory or a folder of runs."
        )
    jobs = [load_job(run, root) for run in runs]
    for index, job in enumerate(jobs):
        job.index = index
    swept = label_jobs(jobs)
    optuna = _load_yaml(root / "optimization_results.yaml")
    summary = Summary(root, rank(jobs), swept, [], optuna if isinstance(optuna, dict) else None)
    out = Path(out_dir) if out_dir else root
    out.mkdir(parents=True, exist_ok=True)
    md = out / "summary.md"
    write_text(md, markdown(summary))
    summary.files = [
        write_csv(summary, out / "summary.csv"),
        md,
        plot_comparison(summary, out / "comparison.png"),
    ]
    return summary


# What the last sweep of this process left: the CLI turns failed jobs into exit code 1.
LAST_SUMMARY: Summary | None = None


class SweepSummary(Callback):
    """Hydra callback: summarise the sweep directory when a multirun ends."""

    def on_multirun_end(self, config, **kwargs) -> None:
        global LAST_SUMMARY
        try:
            LAST_SUMMARY = summarize(config.hydra.sweep.dir)
        except Exception:  # never lose a finished sweep to a summary bug; `summarize` can redo it
            log.error("Could not write the sweep summary:\n%s", traceback.format_exc())
            return
        # the table, ours beside the book's, at the end of the sweep
        print(summary_text(LAST_SUMMARY, terminal=on_terminal()), end="", flush=True)
        for job in LAST_SUMMARY.failed:
            log.error("Failed job %s (%s): %s", job.name, job.label, job.status_text)
