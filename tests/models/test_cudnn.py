"""GPU readiness checked on a CPU by inspection: every LSTM/GRU of the presets keeps the settings
Keras 3 needs for its cuDNN kernel unless the config asks otherwise, and a warning names the
setting (recurrent_dropout, a non-tanh activation) when one rules cuDNN out."""

from __future__ import annotations

import importlib
import logging

import keras
import pytest
from hydra.utils import instantiate

from seqexp.data.spec import DataSpec

# Keras 3's cuDNN argument checks of its TensorFlow backend (the package re-exports a function
# named `rnn`, so the module is imported by its full name).
keras_tf_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")

TIMESERIES = DataSpec(task="regression", input_kind="timeseries", input_shape=(80, 14))
TOKENS = DataSpec(task="next_token", input_kind="tokens", input_shape=(12,), vocab_size=50)
# preset -> the recurrent_dropout / activation it asks for (None: nothing that rules cuDNN out)
PRESETS = {
    "lstm": None, "gru": None, "bidirectional_gru": None, "text_lstm": None,
    "gru_dropout": ["recurrent_dropout=0.2"],
    "lstm_dropout": ["recurrent_dropout=0.2"],
    "lstm_stacked": ["recurrent_dropout=0.2"],
    "bidirectional_lstm": ["recurrent_dropout=0.2"],
    "gru_stacked": ["activation=relu", "recurrent_dropout=0.5"],
    "conv1d_gru": ["recurrent_dropout=0.5"],
    "conv1d_lstm": ["recurrent_dropout=0.2"],
}  # fmt: skip


def recurrent_layers(model) -> list:
    """Every LSTM/GRU layer of the model, those inside Bidirectional wrappers included."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            found += [layer.forward_layer, layer.backward_layer]
        elif isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
            found.append(layer)
    return found


def cudnn_eligible(layer) -> bool:
    """Keras 3's own test (TensorFlow backend) of a layer's settings, minus GPU presence."""
    if layer.recurrent_dropout or layer.use_cudnn not in ("auto", True):
        return False
    cell = layer.cell
    if isinstance(layer, keras.layers.GRU):
        return keras_tf_rnn._do_gru_arguments_support_cudnn(
            cell.activation, cell.recurrent_activation, layer.unroll, cell.use_bias, cell.reset_after
        )
    return keras_tf_rnn._do_lstm_arguments_support_cudnn(
        cell.activation, cell.recurrent_activation, layer.unroll, cell.use_bias
    )


def build(make_cfg, preset: str, *overrides: str):
    cfg = make_cfg(f"model={preset}", *overrides)
    spec = TOKENS if preset == "text_lstm" else TIMESERIES
    return instantiate(cfg.model)(spec)


@pytest.mark.parametrize("preset", [p for p, blockers in PRESETS.items() if blockers is None])
def test_presets_keep_every_recurrent_layer_cudnn_eligible_and_say_nothing(make_cfg, caplog, preset):
    with caplog.at_level(logging.WARNING, logger="seqexp.models.recurrent"):
        model = build(make_cfg, preset)
    layers = recurrent_layers(model)
    assert layers, f"model={preset} has no LSTM/GRU layer"
    for layer in layers:
        cell = layer.cell
        assert cell.activation is keras.activations.tanh
        assert cell.recurrent_activation is keras.activations.sigmoid
        assert layer.recurrent_dropout == 0 and not layer.unroll and cell.use_bias
        assert layer.use_cudnn == "auto"
        if isinstance(layer, keras.layers.GRU):
            assert cell.reset_after
        assert cudnn_eligible(layer), layer.name
    assert not [r for r in caplog.records if "cuDNN" in r.getMessage()]


@pytest.mark.parametrize("preset", [p for p, blockers in PRESETS.items() if blockers])
def test_a_setting_that_rules_cudnn_out_is_named_in_a_warning(make_cfg, caplog, preset):
    with caplog.at_level(logging.WARNING, logger="seqexp.models.recurrent"):
        model = build(make_cfg, preset)
    warnings = [r.getMessage() for r in caplog.records if "cuDNN" in r.getMessage()]
    assert len(warnings) == 1, warnings
    for blocker in PRESETS[preset]:
        assert blocker in warnings[0]
    assert caplog.records[0].levelno == logging.WARNING
    assert not all(cudnn_eligible(layer) for layer in recurrent_layers(model))


def test_overriding_the_blocker_away_restores_cudnn(make_cfg, caplog):
    with caplog.at_level(logging.WARNING, logger="seqexp.models.recurrent"):
        model = build(make_cfg, "gru_dropout", "model.recurrent_dropout=0.0")
    assert all(cudnn_eligible(layer) for layer in recurrent_layers(model))
    assert recurrent_layers(model)[0].dropout == pytest.approx(0.2)  # input dropout keeps cuDNN
    assert not caplog.records


def test_a_user_activation_is_named(make_cfg, caplog):
    with caplog.at_level(logging.WARNING, logger="seqexp.models.recurrent"):
        build(make_cfg, "lstm", "model.activation=relu")
    (record,) = caplog.records
    assert "activation=relu" in record.getMessage() and "LSTM" in record.getMessage()


def test_simple_rnn_has_no_cudnn_kernel_and_no_warning(make_cfg, caplog):
    with caplog.at_level(logging.WARNING, logger="seqexp.models.recurrent"):
        build(make_cfg, "simple_rnn", "model.recurrent_dropout=0.3")
    assert not caplog.records
