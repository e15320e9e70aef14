"""Every Jena model preset trains one short epoch and writes a complete run directory."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from seqexp.data.jena import read_jena
from seqexp.run.train import train
from tests.conftest import TINY_JENA

JENA_MODELS = [
    "dense", "simple_rnn", "lstm", "gru", "lstm_dropout", "gru_dropout", "lstm_stacked",
    "gru_stacked", "bidirectional_lstm", "bidirectional_gru", "conv1d", "conv1d_gru", "conv1d_lstm",
]  # fmt: skip
RUN_FILES = [
    "train.log",
    "model_summary.txt",
    "checkpoints/best.keras",
    "history.csv",
    "loss.png",
    "mae.png",
    "metrics.json",
]


@pytest.mark.parametrize("model", JENA_MODELS)
def test_model_trains_and_writes_complete_run_dir(make_cfg, jena_csv, tmp_path, model):
    run = tmp_path / "run"
    best = train(make_cfg(f"model={model}", f"data.path={jena_csv}", *TINY_JENA))
    for name in RUN_FILES:
        assert (run / name).stat().st_size > 0, name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 1
    assert metrics["data"] == "jena" and metrics["model"] == model
    assert metrics["best_epoch"] == 1 and metrics["weights"] == "best checkpoint"
    assert metrics["best"]["val_loss"] == pytest.approx(best)
    assert metrics["best"]["val_mae_degC"] == pytest.approx(best * metrics["data_info"]["target_std"])
    assert set(metrics["test"]) == {"loss", "mae", "mae_degC"}
    rows = list(csv.DictReader((run / "history.csv").open()))
    assert len(rows) == 1 and float(rows[0]["val_loss"]) == pytest.approx(best)
    assert "Composed config" in (run / "train.log").read_text().splitlines()[0]
    assert "Total params" in (run / "model_summary.txt").read_text()


def test_naive_baseline_equals_numpy(make_cfg, jena_csv, tmp_path):
    """MAE of 'T(now + delay) = T(newest observed)' on the val split, in normalised units."""
    run = tmp_path / "run"
    overrides = [o for o in TINY_JENA if "_steps" not in o]  # whole splits
    best = train(make_cfg("model=naive", f"data.path={jena_csv}", *overrides))

    values = read_jena(jena_csv)[1].astype(np.float64)[:, 1]  # T (degC)
    lookback, step, delay = 240, 3, 12
    anchors = np.arange(1000 + lookback, 1400)
    expected = np.abs(values[anchors - step] - values[anchors + delay]).mean() / values[:1000].std()

    metrics = json.loads((run / "metrics.json").read_text())
    assert best == pytest.approx(expected, rel=1e-4)
    assert metrics["best"]["val_mae"] == pytest.approx(expected, rel=1e-4)
    assert metrics["best"]["val_mae_degC"] == pytest.approx(
        np.abs(values[anchors - step] - values[anchors + delay]).mean(), rel=1e-4
    )
    assert metrics["epochs_run"] == 0 and metrics["best_epoch"] is None
    assert not (run / "history.csv").exists() and not (run / "checkpoints" / "best.keras").exists()


def test_naive_needs_the_target_among_features(make_cfg, jena_csv):
    from seqexp.errors import SeqexpError

    with pytest.raises(SeqexpError, match="data.features must include the target"):
        train(make_cfg("model=naive", f"data.path={jena_csv}", "data.features=['p (mbar)']", *TINY_JENA))
