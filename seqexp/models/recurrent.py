"""Recurrent stacks: SimpleRNN / LSTM / GRU, stacked, with dropout, optionally bidirectional.

LSTM and GRU keep Keras' defaults that make them eligible for the cuDNN kernel on a GPU
(recurrent_activation sigmoid, unroll false, use_bias true, GRU reset_after true); only
`model.activation` (tanh) and `model.recurrent_dropout` (0) can rule it out, and a warning then
names the setting, since the generic kernel is several times slower on a GPU.
"""

from __future__ import annotations

import logging

import keras

from seqexp.data.spec import DataSpec
from seqexp.errors import SeqexpError
from seqexp.models.heads import accepts, as_list, embed_tokens, model_input, per_layer, task_head

log = logging.getLogger(__name__)

CELLS = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
CUDNN_CELLS = ("lstm", "gru")


def cudnn_blockers(cell: str, activation, recurrent_dropout) -> list[str]:
    """The settings of one LSTM/GRU layer that rule out cuDNN (Keras 3: activation tanh and
    recurrent_dropout 0 are required, besides the defaults kept here)."""
    if cell not in CUDNN_CELLS:
        return []
    blockers = []
    if activation != "tanh":
        blockers.append(f"activation={activation}")
    if recurrent_dropout:
        blockers.append(f"recurrent_dropout={recurrent_dropout}")
    return blockers


def warn_without_cudnn(cell: str, blockers: list[str]) -> None:
    if blockers:
        log.warning("%s: %s rule(s) out the cuDNN kernel on a GPU, where Keras then runs its "
                    "generic kernel, several times slower (no change on a CPU). cuDNN needs "
                    "activation=tanh and recurrent_dropout=0 (model.activation and "
                    "model.recurrent_dropout; model.rnn.* in the conv1d_* presets).",
                    cell.upper(), " and ".join(dict.fromkeys(blockers)))


def recurrent_stack(x, cell="gru", units=32, dropout=0.0, recurrent_dropout=0.0,
                    activation="tanh", bidirectional=False):
    """One recurrent layer per entry of `units`; all but the last return sequences."""
    if cell not in CELLS:
        raise SeqexpError(f"model.cell={cell!r} is not one of {sorted(CELLS)}.")
    units = as_list(units)
    layers = len(units)
    settings = zip(
        units,
        per_layer(dropout, layers, "dropout"),
        per_layer(recurrent_dropout, layers, "recurrent_dropout"),
        per_layer(activation, layers, "activation"),
        strict=True,
    )
    blockers = []
    for i, (n, drop, rec_drop, act) in enumerate(settings):
        blockers += cudnn_blockers(cell, act, rec_drop)
        layer = CELLS[cell](
            n, dropout=drop, recurrent_dropout=rec_drop, activation=act,
            return_sequences=i < layers - 1,
        )
        x = keras.layers.Bidirectional(layer)(x) if bidirectional else layer(x)
    warn_without_cudnn(cell, blockers)
    return x


@accepts("timeseries", "tokens")
def build_recurrent(spec: DataSpec, cell="gru", units=32, dropout=0.0, recurrent_dropout=0.0,
                    activation="tanh", bidirectional=False, head_dropout=0.0,
                    embedding=None) -> keras.Model:
    """DLwP's recurrent models; `head_dropout` is DLwP 2nd ed.'s Dropout before the head."""
    inputs = model_input(spec)
    x = embed_tokens(inputs, spec, embedding)
    x = recurrent_stack(x, cell, units, dropout, recurrent_dropout, activation, bidirectional)
    if head_dropout:
        x = keras.layers.Dropout(head_dropout)(x)
    return keras.Model(inputs, task_head(x, spec), name=f"{'bi' if bidirectional else ''}{cell}")
