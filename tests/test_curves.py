"""The curves a reader looks at: whole-number epoch ticks, the best epoch starred, the book's
figure dashed; in a run's curve PNGs and in a sweep's comparison.png (read from the Axes)."""

from __future__ import annotations

import json

import pytest

from seqexp.reports.curves import curve_figures, plot_curves, plt
from seqexp.summary.comparison import comparison_figure
from seqexp.summary.sweep import summarize

HISTORY = {"loss": [0.9, 0.5, 0.45, 0.44], "mae": [0.8, 0.6, 0.5, 0.49],
           "val_loss": [0.7, 0.4, 0.42, 0.5], "val_mae": [0.6, 0.31, 0.33, 0.4]}  # fmt: skip
REFERENCE = {"metric": "val_mae", "value": 0.2644, "source": "DLwP 1st ed. 6.3"}


def dashed(ax) -> list[float]:
    """The y of every horizontal dashed line of the Axes."""
    return [
        line.get_ydata()[0]
        for line in ax.get_lines()
        if line.get_linestyle() == "--" and len(set(line.get_ydata())) == 1
    ]


def stars(ax) -> list[tuple[float, float]]:
    return [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.get_lines() if line.get_marker() == "*"]


def integer_ticks(ax) -> list[float]:
    ax.figure.canvas.draw()
    lo, hi = ax.get_xlim()
    shown = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert shown and all(float(t).is_integer() for t in shown), shown
    return shown


@pytest.mark.parametrize("metric", ["val_mae", "mae"])  # the reference's metric, with or without val_
def test_run_curves_mark_best_epoch_and_reference_on_whole_epochs(metric):
    reference = {**REFERENCE, "metric": metric}
    figures = dict(curve_figures(HISTORY, "jena / gru", best_epoch=2, reference=reference))
    assert sorted(figures) == ["loss", "mae"]
    mae, loss = figures["mae"].axes[0], figures["loss"].axes[0]
    assert dashed(mae) == [0.2644] and dashed(loss) == []  # only on the plot of its metric
    assert "DLwP 1st ed. 6.3" in " ".join(t.get_text() for t in mae.get_legend().get_texts())
    assert stars(mae) == [(2, 0.31)] and stars(loss) == [(2, 0.4)]  # on the validation curve
    assert integer_ticks(mae) == [1, 2, 3, 4]
    for fig in figures.values():
        plt.close(fig)


def test_a_short_run_has_no_fractional_epoch_ticks(tmp_path):
    history = {k: v[:2] for k, v in HISTORY.items()}
    (fig,) = [f for m, f in curve_figures(history) if m == "loss"]
    assert integer_ticks(fig.axes[0]) == [1, 2]  # matplotlib's default would show 1.25, 1.5, 1.75
    plt.close("all")
    written = plot_curves(history, tmp_path, best_epoch=None, reference=None)
    assert sorted(p.name for p in written) == ["loss.png", "mae.png"]
    assert all(p.stat().st_size > 1000 for p in written)


def make_job(root, name, units, best_epoch, history, reference):
    run = root / name
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text(f"- model.units=[{units}]\n")
    (run / ".hydra" / "config.yaml").write_text(
        json.dumps({"trainer": {"monitor": "val_mae", "mode": "auto"}, "reference": reference})
    )
    best = {k: v[best_epoch - 1] for k, v in history.items()}
    (run / "metrics.json").write_text(
        json.dumps(
            {
                "status": "completed",
                "monitor": "val_mae",
                "best_epoch": best_epoch,
                "epochs_run": 4,
                "best": best,
                "test": {"mae": 0.3},
            }
        )
    )
    rows = ["epoch," + ",".join(sorted(history))]
    rows += [",".join([str(i)] + [str(history[k][i]) for k in sorted(history)]) for i in range(4)]
    (run / "history.csv").write_text("\n".join(rows) + "\n")


def test_sweep_comparison_marks_each_best_epoch_and_the_reference(tmp_path):
    other = {k: [v + 0.1 for v in values] for k, values in HISTORY.items()}
    make_job(tmp_path, "0_jena_gru", 8, 2, HISTORY, REFERENCE)
    make_job(tmp_path, "1_jena_gru", 16, 3, other, REFERENCE)
    summary = summarize(tmp_path)
    assert (tmp_path / "comparison.png").exists()
    fig = comparison_figure(summary)
    curves, params = fig.axes
    assert sorted(stars(curves)) == [(2, 0.31), (3, pytest.approx(0.43))]
    assert dashed(curves) == [0.2644] and dashed(params) == [0.2644]
    assert integer_ticks(curves) == [1, 2, 3, 4]
    plt.close(fig)


def test_sweep_comparison_without_a_reference_draws_no_line(tmp_path):
    make_job(tmp_path, "0_jena_gru", 8, 2, HISTORY, None)
    make_job(tmp_path, "1_jena_gru", 16, 2, HISTORY, {"metric": "val_accuracy", "value": 0.9})
    fig = comparison_figure(summarize(tmp_path))
    assert dashed(fig.axes[0]) == [] and dashed(fig.axes[1]) == []  # another metric's figure is not drawn
    plt.close(fig)


@pytest.mark.parametrize(("keys", "axes"), [(1, 2), (2, 2), (3, 4)])
def test_one_or_two_swept_keys_share_a_panel_more_get_one_each(tmp_path, keys, axes):
    for i in range(2):
        make_job(tmp_path, f"{i}_jena_gru", 8, 2, HISTORY, None)
        swept = [f"model.units=[{8 * (i + 1)}]", f"model.dropout=0.{i + 1}", f"trainer.seed={i}"][:keys]
        (tmp_path / f"{i}_jena_gru" / ".hydra" / "overrides.yaml").write_text(
            "".join(f"- {o}\n" for o in swept)
        )
    summary = summarize(tmp_path)
    assert len(summary.swept_keys) == keys
    fig = comparison_figure(summary)
    assert len(fig.axes) == axes  # the curves, then one shared panel or one per key
    plt.close(fig)
