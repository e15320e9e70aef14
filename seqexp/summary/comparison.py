"""Figures that compare runs, read from their run directories (matplotlib is imported only when
a figure is drawn; never TensorFlow):

- comparison.png of a sweep or a folder of runs: every job's validation curve beside the swept
  parameters against the best value (`comparison_figure`);
- `seqexp diff --plot`: two runs' training and validation curves of the loss and of the
  monitored metric, overlaid (`diff_figure`);
- `seqexp runs --plot`: the validation curves of any selection of runs (`runs_figure`).

All three draw their curves with `draw_curves`: one colour per run, validation solid, training
dashed, each run's best (checkpointed) epoch starred.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from seqexp.errors import SeqexpError
from seqexp.readback import DamagedFile
from seqexp.run.rundir import read_history
from seqexp.summary.values import number, scalar, short

log = logging.getLogger(__name__)

TRAIN_ALPHA = 0.55  # training curves lighter than validation ones


@dataclass
class Curves:
    """One run's history as a figure draws it."""

    label: str  # the run's name in the legend
    history: dict[str, list[float]] = field(default_factory=dict)
    monitor: str | None = None  # the metric its best epoch was chosen by
    best_epoch: int | None = None

    @classmethod
    def of_run(cls, run, label: str | None = None) -> Curves:
        """A run of `seqexp runs` (seqexp.summary.runs.Run): history.csv and metrics.json."""
        try:
            history = read_history(run.path)
        except DamagedFile as err:  # the run's curves are left out, the others are drawn
            log.warning("%s", err)
            history = {}
        return cls(label or run.name, history, run.monitor, run.get("best_epoch", int))


def plot_comparison(summary, path: Path) -> Path:
    from seqexp.reports.curves import save_figure

    return save_figure(comparison_figure(summary), path)


LABEL_CHARS = 80  # a longer legend entry is cut, with an ellipsis


def _fit(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _colors(count: int):
    from seqexp.reports.curves import plt

    return plt.get_cmap("tab10" if count <= 10 else "tab20")


def draw_curves(ax, runs: list[Curves], metric: str | None, train: bool = True, colors=None) -> int:
    """Each run's `metric` curve (None: its monitored one; a val_ name: validation solid, its
    training curve dashed and lighter; a training name: that curve alone, solid), its best epoch
    starred. A run keeps its colour, its place in `runs`, on every panel. Returns how many runs
    had the metric."""
    from seqexp.reports.curves import mark_best

    colors = colors or _colors(len(runs))
    drawn = 0
    for i, run in enumerate(runs):
        key = metric or run.monitor or "val_loss"
        values = run.history.get(key)
        if not values:
            continue
        drawn += 1
        color = colors(i % colors.N)
        epochs = range(1, len(values) + 1)
        ax.plot(epochs, values, "o-", color=color, markersize=4, label=_fit(run.label))
        mark_best(ax, values, run.best_epoch, color=color)
        train_key = key.removeprefix("val_")
        if train and train_key != key and train_key in run.history:
            ax.plot(epochs, run.history[train_key], "--", color=color, alpha=TRAIN_ALPHA)
    return drawn


def _style_legend(fig, runs_drawn: list[Curves], colors, train: bool) -> None:
    """One legend for the whole figure, below the panels: the runs by colour, then what the line
    styles and the star mean."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=colors(i % colors.N), marker="o", markersize=4, label=_fit(run.label))
        for i, run in enumerate(runs_drawn)
    ]
    if train:
        handles.append(Line2D([], [], color="gray", marker="o", markersize=4, label="validation (solid)"))
        handles.append(
            Line2D([], [], color="gray", linestyle="--", alpha=TRAIN_ALPHA, label="training (dashed)")
        )
    handles.append(
        Line2D([], [], color="gray", marker="*", markersize=12, markeredgecolor="black", linestyle="",
               label="best epoch")
    )  # fmt: skip
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize="small")


def _panel_metrics(runs: list[Curves]) -> list[str]:
    """The loss, then each run's monitored metric (the first other compiled metric when the loss
    is monitored): validation names where there is validation data."""
    names = ["loss"]
    for run in runs:
        monitored = (run.monitor or "val_loss").removeprefix("val_")
        if monitored == "loss":
            others = [k for k in run.history if not k.startswith("val_") and k not in _NOT_CURVES]
            monitored = next((k for k in others if k != "loss"), "loss")
        if monitored not in names:
            names.append(monitored)
    return [
        f"val_{name}" if any(f"val_{name}" in run.history for run in runs) else name for name in names[:3]
    ]


_NOT_CURVES = {"epoch", "learning_rate", "lr"}


def diff_figure(runs: list[Curves], title: str = ""):
    """`seqexp diff`'s figure: one panel for the loss and one for the monitored metric, each with
    every run's training (dashed) and validation (solid) curve and its best epoch starred."""
    from seqexp.reports.curves import plt

    metrics = _panel_metrics(runs)
    fig, axes = plt.subplots(1, len(metrics), figsize=(6.5 * len(metrics), 4.8), squeeze=False)
    colors = _colors(len(runs))
    for ax, metric in zip(axes[0], metrics, strict=True):
        draw_curves(ax, runs, metric, train=True, colors=colors)
        name = metric.removeprefix("val_")
        _by_epoch(ax, name, f"{name}: validation (solid), training (dashed)" if name != metric else name)
    return _finished(fig, runs, colors, True, title)


def runs_figure(runs: list[Curves], title: str = ""):
    """`seqexp runs --plot`'s figure: the validation curve of the monitored metric of every run,
    one panel per monitored metric (runs of different tasks monitor different ones)."""
    from seqexp.reports.curves import plt

    monitors = list(dict.fromkeys(run.monitor or "val_loss" for run in runs))[:4]
    fig, axes = plt.subplots(1, len(monitors), figsize=(max(8, 6.5 * len(monitors)), 5), squeeze=False)
    colors = _colors(len(runs))
    for ax, monitor in zip(axes[0], monitors, strict=True):
        shown = [run if (run.monitor or "val_loss") == monitor else Curves(run.label) for run in runs]
        draw_curves(ax, shown, None, train=False, colors=colors)
        _by_epoch(ax, monitor, f"{monitor} by epoch")
    return _finished(fig, runs, colors, False, title)


def _by_epoch(ax, ylabel: str, title: str) -> None:
    """A panel of curves by epoch: whole epochs on x, the metric's name on y, a light grid."""
    from seqexp.reports.curves import integer_epochs

    integer_epochs(ax)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)


def _finished(fig, runs: list[Curves], colors, train: bool, title: str):
    """The figure with its legend of runs below the panels and its title."""
    _style_legend(fig, runs, colors, train=train)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def comparison_figure(summary):
    # summary: a seqexp.summary.sweep.Summary
    """comparison.png's Figure. Left: every job's validation curve (training lighter), its best
    epoch starred; right: swept values vs best. The book's figure of the jobs' configs
    (`reference:`) is dashed on both.

    One or two swept parameters share one panel (the second one as lines); more (an Optuna
    search) get one panel each."""
    from seqexp.reports.curves import draw_reference, integer_epochs, plt

    keys = summary.swept_keys
    panels = 1 if len(keys) <= 2 else min(len(keys), 4)
    if panels == 1:
        fig, (curves, param) = plt.subplots(1, 2, figsize=(13, 5))
        params = [param]
    else:  # curves on the left, a 2x2 grid of parameter panels on the right
        fig = plt.figure(figsize=(15, 8))
        grid = fig.add_gridspec(2, 3)
        curves = fig.add_subplot(grid[:, 0])
        params = [fig.add_subplot(grid[i // 2, 1 + i % 2]) for i in range(panels)]
    colors = plt.get_cmap("tab10")
    monitor = next((j.monitor for j in summary.jobs if j.monitor), "val_loss")
    runs = [Curves(j.label, j.history(), j.monitor or monitor, j.best_epoch) for j in summary.jobs]
    draw_curves(curves, runs, None, train=True, colors=colors)
    references = _references(summary.jobs)
    for reference in references:
        draw_reference(curves, reference, monitor)
    integer_epochs(curves)
    curves.set_xlabel("epoch")
    curves.set_ylabel(f"{monitor} (solid), training {monitor.removeprefix('val_')} (dashed)")
    curves.set_title("validation curves (best job first)")
    curves.grid(alpha=0.3)
    if curves.get_legend_handles_labels()[0]:
        curves.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.13))

    scored = sorted((j for j in summary.jobs if j.best is not None), key=lambda j: j.index)
    if not keys:
        params[0].bar(range(len(scored)), [j.best for j in scored])
        params[0].set_xticks(range(len(scored)), [j.name for j in scored], rotation=30, ha="right")
    elif panels == 1:
        _plot_param(params[0], scored, keys[0], keys[1] if len(keys) == 2 else None, colors)
    else:
        for ax, key in zip(params, keys, strict=False):
            _plot_param(ax, scored, key, None, colors)
    for ax in params:
        if any([draw_reference(ax, reference, monitor) for reference in references]):
            ax.legend(fontsize="small")  # the book's line is labelled with its source
        ax.set_ylabel(f"best {monitor}")
        ax.grid(alpha=0.3)
    params[0].set_title("swept parameters vs best value")
    fig.suptitle(f"{summary.root.name}: {len(summary.jobs)} jobs")
    fig.tight_layout()
    return fig


def _references(jobs: list) -> list[dict]:
    """The distinct `reference:` figures of the jobs' configs (a sweep over presets has several)."""
    found = []
    for job in jobs:
        reference = job.config.get("reference")
        if isinstance(reference, dict) and reference not in found:
            found.append(reference)
    return found


def _plot_param(ax, jobs: list, key: str, group_key: str | None, colors) -> None:
    """Best value against one swept parameter; one line per value of group_key."""
    xs = [scalar(j.swept.get(key, "")) for j in jobs]
    numeric = bool(xs) and all(number(x) is not None for x in xs)
    categories = list(dict.fromkeys(xs))
    groups = {}
    for job, x in zip(jobs, xs, strict=True):
        group = f"{group_key}={short(job.swept.get(group_key, ''))}" if group_key else ""
        groups.setdefault(group, []).append((number(x) if numeric else categories.index(x), job.best))
    for i, (group, points) in enumerate(groups.items()):
        points.sort()
        style = "o-" if group_key else "o"
        ax.plot(
            [p[0] for p in points], [p[1] for p in points], style, color=colors(i % 10), label=group or None
        )
    if not numeric:
        ax.set_xticks(range(len(categories)), categories, rotation=30, ha="right")
    elif min(map(float, xs)) > 0 and max(map(float, xs)) >= 20 * min(map(float, xs)):
        ax.set_xscale("log")  # learning rates and the like
    ax.set_xlabel(key)
    ax.tick_params(axis="x", labelrotation=30)
    if group_key:
        ax.legend(fontsize="small")


# ---- `seqexp diff --plot` and `seqexp runs --plot` ---------------------------------------------

PLOT_FORMATS = (".png", ".pdf", ".svg")


def default_diff_plot(a, b) -> Path:
    """Where `seqexp diff` writes its figure unless told: diff_<A>_<B>.png in the current folder,
    named by the two run folders."""
    return Path(f"diff_{a.path.name}_{b.path.name}.png")


def checked_plot_path(path: Path, option: str = "--plot") -> Path:
    path = Path(path)
    if path.suffix.lower() not in PLOT_FORMATS:
        raise SeqexpError(
            f"{option} {path}: name a figure file ending in {', '.join(PLOT_FORMATS)} (the "
            f"suffix picks the format), e.g. {option} curves.png."
        )
    if path.parent != Path() and not path.parent.is_dir():
        raise SeqexpError(f"{option} {path}: the folder {path.parent} does not exist; create it first.")
    return path


def _drawable(runs: list[Curves]) -> tuple[list[Curves], list[Curves]]:
    """(runs with a history, runs without one)."""
    return [r for r in runs if r.history], [r for r in runs if not r.history]


def _labels(runs: list, names: list[str]) -> list[str]:
    """Each run's name and the overrides that set it apart from the others (those all share say
    nothing in a legend)."""
    overrides = [run.overrides for run in runs]
    shared = set.intersection(*map(set, overrides)) if len(runs) > 1 else set()
    own = [" ".join(o for o in theirs if o not in shared) for theirs in overrides]
    return [f"{name} ({mine})" if mine else name for name, mine in zip(names, own, strict=True)]


def plot_diff(a, b, path: Path | None = None) -> tuple[Path | None, list[str]]:
    """Write `seqexp diff`'s figure of two runs (seqexp.summary.runs.Run); returns its path (None:
    none written) and what to tell the user (runs left out, or why there is no figure). A path the
    user named must be written (else SeqexpError); the default one is a bonus to the diff asked
    for, so a run without curves or a read-only current folder only costs the figure."""
    asked = path is not None
    path = checked_plot_path(path or default_diff_plot(a, b))
    labels = _labels([a, b], [f"A: {a.path.name}", f"B: {b.path.name}"])
    runs = [Curves.of_run(run, label) for run, label in zip([a, b], labels, strict=True)]
    drawn, missing = _drawable(runs)
    try:
        if not drawn:
            raise SeqexpError(f"neither {a.path} nor {b.path} has a readable history.csv: no curves to plot.")
        written = _save(diff_figure(drawn, "training and validation curves"), path)
    except SeqexpError as err:
        if asked:
            raise
        return None, [f"no figure: {err}"]
    return written, [f"{r.label} has no readable history.csv: its curves are not in {path}." for r in missing]


def plot_runs(selected: list, path: Path) -> tuple[Path, list[str]]:
    """Write `seqexp runs --plot`'s figure of the selected runs; returns the path and the names
    of runs left out for having no history.csv. Raises when none has one."""
    path = checked_plot_path(path, "--plot")
    names = [run.path.name for run in selected]  # the folder; its date folder only when needed
    if len(set(names)) < len(names):
        names = [run.name for run in selected]
    labels = _labels(selected, names)
    drawn, missing = _drawable(
        [Curves.of_run(run, label) for run, label in zip(selected, labels, strict=True)]
    )
    if not drawn:
        raise SeqexpError(
            f"none of the {len(selected)} selected run(s) has a readable history.csv: no curves "
            f"to plot. Widen the filters, or check the runs with `seqexp runs`."
        )
    title = f"validation curves of {len(drawn)} run(s)"
    return _save(runs_figure(drawn, title), path), [r.label for r in missing]


def _save(fig, path: Path) -> Path:
    from seqexp.reports.curves import save_figure

    try:
        return save_figure(fig, path)
    except OSError as err:
        raise SeqexpError(f"--plot {path}: cannot write it ({err.strerror or err}).") from None
