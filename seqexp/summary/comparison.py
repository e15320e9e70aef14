"""comparison.png of a sweep or a folder of runs: every job's validation curve beside the swept
parameters against the best value (matplotlib is imported only when a figure is drawn)."""

from __future__ import annotations

from pathlib import Path

from seqexp.summary.values import number, scalar, short


def plot_comparison(summary, path: Path) -> Path:
    from seqexp.reports.curves import save_figure

    return save_figure(comparison_figure(summary), path)


def comparison_figure(summary):
    # summary: a seqexp.summary.sweep.Summary
    """comparison.png's Figure. Left: every job's validation curve (training lighter), its best
    epoch starred; right: swept values vs best. The book's figure of the jobs' configs
    (`reference:`) is dashed on both.

    One or two swept parameters share one panel (the second one as lines); more (an Optuna
    search) get one panel each."""
    from seqexp.reports.curves import draw_reference, integer_epochs, mark_best, plt

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
    for i, job in enumerate(summary.jobs):
        history = job.history()
        key = job.monitor or monitor
        if key not in history:
            continue
        color = colors(i % 10)
        epochs = range(1, len(history[key]) + 1)
        curves.plot(epochs, history[key], "o-", color=color, label=job.label[:70])
        mark_best(curves, history[key], job.best_epoch, color=color)
        train_key = key.removeprefix("val_")
        if train_key != key and train_key in history:
            curves.plot(epochs, history[train_key], "--", color=color, alpha=0.35)
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
