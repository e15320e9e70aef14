"""Training curves as PNGs, redrawn after every epoch so a killed run still shows its curves.

What a reader looks for is drawn on every figure: whole-number epoch ticks, the best
(checkpointed) epoch, and the book's figure (the config's `reference:`) as a dashed line. The
helpers below are shared with the sweep's comparison.png (seqexp.summary.sweep).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from seqexp.atomic import replacing  # noqa: E402

NOT_METRICS = {"epoch", "learning_rate", "lr"}
REFERENCE_STYLE = {"color": "black", "linestyle": "--", "linewidth": 1.2}


def save_figure(fig, path: Path) -> Path:
    """Write atomically so a reader, or a killed run, never sees a half-written PNG."""
    try:
        with replacing(path) as tmp:
            fig.savefig(tmp, dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def integer_epochs(ax) -> None:
    """Epochs are whole numbers: no 1.25, 1.75 ticks on a short run."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def reference_for(reference: Mapping | None, metric: str) -> Mapping | None:
    """The reference figure if it is about `metric` (val_mae and mae are the same curve's)."""
    if not reference or reference.get("value") is None or not reference.get("metric"):
        return None
    same = str(reference["metric"]).removeprefix("val_") == metric.removeprefix("val_")
    return reference if same else None


def draw_reference(ax, reference: Mapping | None, metric: str) -> bool:
    """The book's figure as a dashed horizontal line on the plot of its metric."""
    ref = reference_for(reference, metric)
    if ref is None:
        return False
    source = f" ({ref['source']})" if ref.get("source") else ""
    ax.axhline(float(ref["value"]), **REFERENCE_STYLE, label=f"book {ref['metric']} = {ref['value']}{source}")
    return True


def mark_best(ax, values: Sequence[float], best_epoch: int | None, color=None, label: str | None = None):
    """A star on the curve at the best (checkpointed) epoch, counted from 1."""
    if best_epoch is None or not 1 <= best_epoch <= len(values):
        return None
    (marker,) = ax.plot(
        [best_epoch],
        [values[best_epoch - 1]],
        "*",
        markersize=14,
        color=color,
        markeredgecolor="black",
        zorder=5,
        label=label,
    )
    return marker


def plot_curves(
    history: dict[str, list[float]],
    out_dir: Path,
    title: str = "",
    best_epoch: int | None = None,
    reference: Mapping | None = None,
) -> list[Path]:
    """loss.png plus one `<metric>.png` per other metric: training vs validation by epoch, the
    best epoch starred on the validation curve (training curve without one), and the reference
    figure dashed on the plot of its metric."""
    return [
        save_figure(figure, Path(out_dir) / f"{metric}.png")
        for metric, figure in curve_figures(history, title, best_epoch, reference)
    ]


def curve_figures(
    history: dict[str, list[float]],
    title: str = "",
    best_epoch: int | None = None,
    reference: Mapping | None = None,
):
    """(metric, Figure) for every training metric of the history, unsaved (tests read the Axes)."""
    for metric in [k for k in history if not k.startswith("val_") and k not in NOT_METRICS]:
        fig, ax = plt.subplots(figsize=(6, 4))
        epochs = range(1, len(history[metric]) + 1)
        ax.plot(epochs, history[metric], "o-", label=f"training {metric}")
        checked = history[metric]
        if f"val_{metric}" in history:
            checked = history[f"val_{metric}"]
            ax.plot(epochs, checked, "s-", label=f"validation {metric}")
        mark_best(ax, checked, best_epoch, color="gold", label=f"best epoch ({best_epoch})")
        draw_reference(ax, reference, metric)
        integer_epochs(ax)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(f"{title} {metric}".strip())
        ax.grid(alpha=0.3)
        ax.legend()
        yield metric, fig
