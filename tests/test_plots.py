"""`seqexp diff --plot` and `seqexp runs --plot`: the figures overlay the right runs' curves (read
from the Axes, and the PNG the command wrote compared pixel for pixel with the figure of the
runs it should hold), the commands name the file, bad paths are refused, TensorFlow stays out.
Run directories are written with seqexp's own writers (metrics.json, history.csv, overrides)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from matplotlib import image as mpimg

from seqexp.cli import main
from seqexp.reports.curves import plt
from seqexp.run.record import RunRecord, Status, write_record
from seqexp.run.rundir import write_history
from seqexp.summary.comparison import Curves, diff_figure, plot_runs, runs_figure
from seqexp.summary.runs import read_runs
from tests.test_cli import imports_tensorflow

# {folder: (model, overrides that set it apart, best epoch, val_mae by epoch)}
RUNS = {
    "2026-02-01/10-00-00-000000_jena_gru": ("gru", [], 2, [0.60, 0.31, 0.35, 0.40]),
    "2026-02-02/10-00-00-000000_jena_gru": ("gru", ["model.units=64"], 3, [0.70, 0.50, 0.45, 0.47]),
    "2026-02-03/10-00-00-000000_jena_lstm": ("lstm", ["model=lstm"], 4, [0.90, 0.80, 0.70, 0.65]),
}  # fmt: skip
GRU, GRU_64, LSTM = RUNS


def history(val_mae: list[float]) -> dict[str, list[float]]:
    """Training below validation, the loss apart from the metric: every curve distinct."""
    return {
        "loss": [v + 0.2 for v in val_mae[::-1]],
        "mae": [v - 0.1 for v in val_mae],
        "val_loss": [v + 0.5 for v in val_mae],
        "val_mae": val_mae,
    }


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("outputs")
    for name, (model, overrides, best_epoch, val_mae) in RUNS.items():
        run = root / name
        curves = history(val_mae)
        run.mkdir(parents=True)
        write_history(run, curves)
        write_record(
            run,
            RunRecord(
                data="jena",
                model=model,
                monitor="val_mae",
                mode="min",
                status=Status.COMPLETED,
                best_epoch=best_epoch,
                epochs_run=4,
                best={k: v[best_epoch - 1] for k, v in curves.items()},
                test={"mae": 0.5},
            ),
        )
        (run / ".hydra").mkdir()
        (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(["experiment=smoke", *overrides]))
    return root


BLUE, ORANGE = (31, 119, 180), (255, 127, 14)  # matplotlib's tab10: the first run's, the second's


def pixels_of(image, colour) -> int:
    """How many pixels of a PNG (read by matplotlib: floats 0-1) have about this RGB colour."""
    return int((np.abs(image[..., :3] * 255 - np.array(colour)).max(axis=-1) < 12).sum())


def lines_of(ax) -> dict[tuple, tuple[str, str]]:
    """{ydata: (colour, linestyle)} of the curves of an Axes (stars left out)."""
    return {
        tuple(np.round(line.get_ydata(), 6)): (line.get_color(), line.get_linestyle())
        for line in ax.get_lines()
        if line.get_marker() != "*"
    }


def stars(ax) -> list[tuple[float, float]]:
    return sorted(
        (float(line.get_xdata()[0]), round(float(line.get_ydata()[0]), 6))
        for line in ax.get_lines()
        if line.get_marker() == "*"
    )


def legend_texts(fig) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def curves_of(outputs, *names: str) -> list[Curves]:
    runs = {run.name: run for run in read_runs(outputs)}
    return [Curves.of_run(runs[name]) for name in names]


def test_diff_figure_overlays_training_and_validation_of_both_runs(outputs):
    fig = diff_figure(curves_of(outputs, GRU, LSTM))
    loss, mae = fig.axes
    assert (loss.get_ylabel(), mae.get_ylabel()) == ("loss", "mae")  # the loss and the monitored metric
    for ax, metric in ((loss, "loss"), (mae, "mae")):
        drawn = lines_of(ax)
        colours = []
        for name in (GRU, LSTM):
            curves = history(RUNS[name][3])
            val = drawn[tuple(np.round(curves[f"val_{metric}"], 6))]
            train = drawn[tuple(np.round(curves[metric], 6))]
            assert val[1] == "-" and train[1] == "--"  # validation solid, training dashed
            assert val[0] == train[0]  # one colour per run
            colours.append(val[0])
        assert colours[0] != colours[1] and len(drawn) == 4
    # each run's best epoch starred on its validation curves
    assert stars(mae) == [(2, 0.31), (4, 0.65)] and stars(loss) == [(2, 0.81), (4, 1.15)]
    assert GRU in legend_texts(fig) and LSTM in legend_texts(fig)
    plt.close(fig)


def test_diff_writes_the_figure_and_names_it(outputs, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["diff", str(outputs / GRU), str(outputs / LSTM)]) == 0
    out = capsys.readouterr().out
    default = tmp_path / "diff_10-00-00-000000_jena_gru_10-00-00-000000_jena_lstm.png"
    assert out.splitlines()[-1].endswith(f": {default.name}")
    written = mpimg.imread(default)
    height, width, _ = written.shape
    assert width > 1.8 * height and height > 300  # two panels side by side, the legend below
    # both runs' curves are in the picture: pixels of the first and of the second run's colour
    assert pixels_of(written, BLUE) > 500 and pixels_of(written, ORANGE) > 500
    named = tmp_path / "both.png"
    assert main(["diff", str(outputs / GRU), str(outputs / LSTM), "--plot", str(named)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith(f": {named}")
    assert np.array_equal(mpimg.imread(named), written)


def test_diff_json_names_the_figure(outputs, tmp_path, capsys):
    import json

    target = tmp_path / "curves.svg"
    assert (
        main(["diff", str(outputs / GRU), str(outputs / GRU_64), "--format", "json", "--plot", str(target)])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["plot"] == str(target)
    assert target.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("plot", "message"),
    [
        ("curves.txt", "name a figure file ending in .png, .pdf, .svg"),
        ("nowhere/curves.png", "does not exist"),
    ],
)
def test_a_bad_plot_path_is_refused_before_anything_is_written(outputs, tmp_path, capsys, plot, message):
    for command in (["diff", str(outputs / GRU), str(outputs / LSTM)], ["runs", str(outputs)]):
        assert main([*command, "--plot", str(tmp_path / plot)]) == 2
        captured = capsys.readouterr()
        assert f"seqexp: error: --plot {tmp_path / plot}: " in captured.err and message in captured.err
        assert captured.out == ""  # refused before the table
    assert list(tmp_path.iterdir()) == []


def test_runs_plot_overlays_only_the_selected_runs(outputs, tmp_path, capsys):
    target = tmp_path / "gru.png"
    assert main(["runs", str(outputs), "--model", "gru", "--plot", str(target)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == f"validation curves of 2 run(s): {target}"
    assert LSTM not in out  # the table and the figure show the same selection
    # the figure of the two gru runs, pixel for pixel; not that of all three
    runs = {run.name: run for run in read_runs(outputs)}
    expected, everything = tmp_path / "expected.png", tmp_path / "all.png"
    plot_runs([runs[GRU_64], runs[GRU]], expected)  # newest first, as listed
    plot_runs(list(runs.values()), everything)
    assert np.array_equal(mpimg.imread(target), mpimg.imread(expected))
    assert not np.array_equal(mpimg.imread(target), mpimg.imread(everything))


def test_runs_figure_draws_each_selected_validation_curve_once(outputs):
    fig = runs_figure(curves_of(outputs, GRU, GRU_64))
    (ax,) = fig.axes
    assert ax.get_ylabel() == "val_mae"
    assert set(lines_of(ax)) == {tuple(RUNS[GRU][3]), tuple(RUNS[GRU_64][3])}  # no training curves
    assert stars(ax) == [(2, 0.31), (3, 0.45)]
    plt.close(fig)


def test_legends_name_the_overrides_that_set_runs_apart(outputs, tmp_path):
    runs = read_runs(outputs)
    from seqexp.summary.comparison import _labels

    labels = _labels(runs, [run.name for run in runs])
    assert f"{GRU_64} (model.units=64)" in labels and f"{LSTM} (model=lstm)" in labels
    assert GRU in labels  # experiment=smoke is shared: it says nothing


def test_runs_plot_without_any_history_fails_clearly(outputs, tmp_path, capsys):
    empty = tmp_path / "runs" / "2026-03-01" / "10-00-00-000000_jena_gru"
    write_record(empty, RunRecord(status=Status.FAILED, reason="killed"))
    assert main(["runs", str(tmp_path / "runs"), "--plot", str(tmp_path / "p.png")]) == 2
    assert "has a readable history.csv: no curves to plot" in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()


@pytest.mark.slow  # fresh interpreters
def test_the_plots_do_not_import_tensorflow(outputs, tmp_path):
    imported, out = imports_tensorflow("runs", str(outputs), "--plot", str(tmp_path / "r.png"), cwd=tmp_path)
    assert not imported and (tmp_path / "r.png").stat().st_size > 10_000
    imported, out = imports_tensorflow("diff", str(outputs / GRU), str(outputs / LSTM), cwd=tmp_path)
    assert (
        not imported and (tmp_path / "diff_10-00-00-000000_jena_gru_10-00-00-000000_jena_lstm.png").exists()
    )


def test_a_diff_without_curves_still_compares_and_says_why_there_is_no_figure(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    a, b = tmp_path / "runs" / "a", tmp_path / "runs" / "b"
    write_record(a, RunRecord(status=Status.FAILED, reason="killed", monitor="val_loss"))
    write_record(b, RunRecord(status=Status.FAILED, reason="nan loss", monitor="val_loss"))
    assert main(["diff", str(a), str(b)]) == 0  # the diff asked for; the default figure is a bonus
    captured = capsys.readouterr()
    assert "metrics (metrics.json)" in captured.out and "curves (" not in captured.out
    assert f"seqexp: no figure: neither {a} nor {b} has a readable history.csv" in captured.err
    assert not list(tmp_path.glob("*.png"))
    assert main(["diff", str(a), str(b), "--plot", "named.png"]) == 2  # a figure asked for by name
    assert "seqexp: error: neither" in capsys.readouterr().err and not (tmp_path / "named.png").exists()
