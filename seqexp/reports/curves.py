"""Training curves as PNGs, redrawn after every epoch so a killed run still shows its curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402

from seqexp.atomic import replacing  # noqa: E402

NOT_METRICS = {"epoch", "learning_rate", "lr"}


def save_figure(fig, path: Path) -> None:
    """Write atomically so a reader, or a killed run, never sees a half-written PNG."""
    try:
        with replacing(path) as tmp:
            fig.savefig(tmp, dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)


def plot_curves(history: dict[str, list[float]], out_dir: Path, title: str = "") -> list[Path]:
    """loss.png plus one `<metric>.png` per other metric: training vs validation by epoch."""
    written = []
    for metric in [k for k in history if not k.startswith("val_") and k not in NOT_METRICS]:
        fig, ax = plt.subplots(figsize=(6, 4))
        epochs = range(1, len(history[metric]) + 1)
        ax.plot(epochs, history[metric], "o-", label=f"training {metric}")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], "s-", label=f"validation {metric}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(f"{title} {metric}".strip())
        ax.grid(alpha=0.3)
        ax.legend()
        path = Path(out_dir) / f"{metric}.png"
        save_figure(fig, path)
        written.append(path)
    return written
