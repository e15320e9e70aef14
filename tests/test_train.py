"""The train entrypoint: learning, determinism, downloads through the config, clear errors."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from seqexp.data.synthetic import synthetic_weather, write_jena_csv
from seqexp.errors import SeqexpError
from seqexp.run.train import train
from tests.conftest import TINY_JENA


def leading_weather(rows: int, lead: int, seed: int = 0) -> np.ndarray:
    """Weather where pressure today *is* the temperature `lead` rows later: the past predicts the
    future far better than 'tomorrow = today' does."""
    rng = np.random.default_rng(seed)
    signal = np.zeros(rows + lead)
    for i in range(1, len(signal)):
        signal[i] = 0.9 * signal[i - 1] + rng.normal()
    values = synthetic_weather(rows, seed=seed)
    values[:, 0] = 1000 + signal[lead:]  # p (mbar) leads ...
    values[:, 1] = signal[:rows]  # ... T (degC) by `lead` rows
    return values


@pytest.mark.slow
def test_recurrent_model_beats_naive_baseline_on_predictable_series(make_cfg, tmp_path):
    lookback, step, delay = 48, 6, 24
    path = write_jena_csv(tmp_path / "lead.csv", leading_weather(3000, lead=delay + step))
    common = [
        f"data.path={path}",
        "data.split.train=[0,2000]",
        "data.split.val=[2000,2500]",
        "data.split.test=[2500,null]",
        f"data.lookback={lookback}",
        f"data.step={step}",
        f"data.delay={delay}",
        "trainer.batch_size=32",
    ]
    naive = train(make_cfg("model=naive", *common, run_dir=tmp_path / "naive"))
    gru = train(
        make_cfg(
            "model=gru",
            "model.units=[16]",
            "trainer.epochs=6",
            "optimizer=adam",
            "optimizer.learning_rate=0.01",
            *common,
            run_dir=tmp_path / "gru",
        )
    )
    assert naive > 0.5  # the baseline is poor here ...
    assert gru < 0.5 * naive  # ... and the GRU learned what the past tells about the future
    test_mae = json.loads((tmp_path / "gru" / "metrics.json").read_text())["test"]["mae"]
    assert test_mae < 0.5 * naive


@pytest.mark.slow  # real processes or several trainings: make test-slow
def test_same_seed_gives_identical_history(make_cfg, jena_csv, tmp_path):
    runs = []
    for name in ("first", "second"):
        train(
            make_cfg(
                "model=lstm_dropout",
                f"data.path={jena_csv}",
                *TINY_JENA,
                "trainer.epochs=2",
                run_dir=tmp_path / name,
            )
        )
        runs.append((tmp_path / name / "history.csv").read_text())
    assert runs[0] == runs[1] and len(runs[0].splitlines()) == 3
    metrics = json.loads((tmp_path / "first" / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and metrics["samples_per_second"] > 0  # 2 x 2 steps of 16
    train(
        make_cfg(
            "model=lstm_dropout",
            f"data.path={jena_csv}",
            *TINY_JENA,
            "trainer.epochs=2",
            "trainer.seed=1",
            run_dir=tmp_path / "other",
        )
    )
    assert (tmp_path / "other" / "history.csv").read_text() != runs[0]


def test_downloads_through_the_config_into_the_cache(make_cfg, jena_csv, tmp_path):
    """data.path=null: the zip comes from data.url into data.cache_dir, then trains from it."""
    zip_path = tmp_path / "server" / "jena_climate_2009_2016.csv.zip"
    zip_path.parent.mkdir()
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.write(jena_csv, "jena_climate_2009_2016.csv")
    cache = tmp_path / "cache"
    train(
        make_cfg(
            "model=dense",
            f"data.url={zip_path.as_uri()}",
            f"data.cache_dir={cache}",
            f"data.size={zip_path.stat().st_size}",
            *TINY_JENA,
        )
    )
    assert (cache / "jena_climate_2009_2016.csv.zip").read_bytes() == zip_path.read_bytes()
    assert (tmp_path / "run" / "metrics.json").exists()


def test_early_stopping_is_reported(make_cfg, jena_csv, tmp_path):
    train(
        make_cfg(
            "model=dense",
            f"data.path={jena_csv}",
            *TINY_JENA,
            "trainer.epochs=30",
            "callbacks.early_stopping.patience=1",
            "optimizer.learning_rate=0.5",
        )
    )
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "stopped early" and metrics["epochs_run"] < 30
    assert metrics["best_epoch"] <= metrics["epochs_run"] - 1


def test_monitor_must_be_logged(make_cfg, jena_csv):
    with pytest.raises(SeqexpError, match=r"trainer.monitor=val_accuracy is not logged.*val_mae"):
        train(make_cfg("model=dense", f"data.path={jena_csv}", *TINY_JENA, "trainer.monitor=val_accuracy"))


def test_bad_model_parameter_is_a_clear_error(make_cfg, jena_csv):
    with pytest.raises(SeqexpError, match=r"model.cell=transformer must be one of gru, lstm, simple_rnn"):
        train(make_cfg("model=gru", "model.cell=transformer", f"data.path={jena_csv}", *TINY_JENA))


def test_optimizer_clipping_and_weight_decay_reach_keras(make_cfg):
    from hydra.utils import instantiate

    cfg = make_cfg("optimizer=adam", "optimizer.clipnorm=1.0", "optimizer.weight_decay=0.01")
    optimizer = instantiate(cfg.optimizer)
    assert (optimizer.clipnorm, optimizer.weight_decay, optimizer.global_clipnorm) == (1.0, 0.01, None)


def test_train_checks_the_whole_config_with_the_clis_message(make_cfg, jena_csv, tmp_path, capsys):
    """train(cfg) from Python refuses a bad trainer value as `seqexp train` does, before writing."""
    from tests.badinput import run_cli

    bad = [f"data.path={jena_csv}", *TINY_JENA, "trainer.threads=0", "trainer.strategy=horovod"]
    with pytest.raises(SeqexpError) as refused:
        train(make_cfg(*bad))
    assert not (tmp_path / "run").exists()  # nothing written
    code, err = run_cli(["train", *bad, f"hydra.run.dir={tmp_path / 'cli'}"], capsys)
    assert code == 2 and err.strip() == f"seqexp: error: {refused.value}"
    assert str(refused.value) == (
        "2 bad config values: trainer.threads=0 must be one of auto or an integer of at least 1, "
        "or null; trainer.strategy=horovod must be one of mirrored, multi_worker, or null."
    )


def test_an_overridden_checkpoint_path_is_the_one_evaluated_and_recorded(tmp_path, jena_csv):
    """callbacks.checkpoint.filepath elsewhere: the best epoch's weights there are reloaded before
    the test evaluation (fit leaves the model scrambled), and predict/export find them through
    the record."""
    import keras

    from seqexp.run.record import run_checkpoint
    from seqexp.serve.model import load_run
    from tests.conftest import compose_train
    from tests.test_faults import Snapshots, test_metrics

    run = tmp_path / "run"
    snapshots = Snapshots(scramble_after_epoch="end")
    cfg = compose_train(
        run,
        f"data.path={jena_csv}",
        *TINY_JENA,
        "trainer.epochs=2",
        "callbacks.early_stopping.enabled=false",
        "callbacks.checkpoint.filepath=${paths.run_dir}/weights/top.keras",
    )
    train(cfg, more_callbacks=snapshots)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["weights"] == "best checkpoint" and metrics["checkpoint"] == "weights/top.keras"
    assert (run / "weights" / "top.keras").exists() and not (run / "checkpoints" / "best.keras").exists()
    best = keras.models.load_model(run / "weights" / "top.keras")
    expected = test_metrics(cfg, snapshots.model, best.get_weights())
    assert metrics["test"]["loss"] == pytest.approx(expected["loss"], rel=1e-5)
    scrambled = test_metrics(cfg, snapshots.model, snapshots.scrambled)  # what fit left behind
    assert scrambled["loss"] > 1.5 * expected["loss"]  # so the check above can tell them apart
    assert run_checkpoint(run) == "weights/top.keras"
    served = load_run(run)  # `seqexp predict run=<run>` with checkpoint=null
    assert [w.tolist() for w in served.model.get_weights()] == [w.tolist() for w in best.get_weights()]
