"""Recurrent stacks: SimpleRNN / LSTM / GRU, stacked, with dropout, optionally bidirectional.

LSTM and GRU keep Keras' defaults that make them eligible for the cuDNN kernel on a GPU
(recurrent_activation sigmoid, unroll false, use_bias true, GRU reset_after true); only
`model.activation` (tanh) and `model.recurrent_dropout` (0) can rule it out, and a warning then
names the setting, since the generic kernel is several times slower on a GPU.
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from pydantic import Field

from seqexp.config.checks import checked
from seqexp.config.types import DropFraction, KwargsOf, PositiveInt
from seqexp.data.spec import DataSpec
from seqexp.models.embedding import token_vectors
from seqexp.models.heads import (
    accepts,
    as_list,
    embed_tokens,
    model_input,
    per_layer,
    per_layer_rule,
    task_head,
)

log = logging.getLogger(__name__)

Cell = Literal["gru", "lstm", "simple_rnn"]  # keras.layers.GRU, LSTM, SimpleRNN
CUDNN_CELLS = ("lstm", "gru")
Units = Annotated[list[PositiveInt], Field(min_length=1)] | PositiveInt  # one entry per stacked layer
PerLayerDrop = DropFraction | list[DropFraction]  # one value for every layer, or one per layer
PerLayerActivation = str | list[str]
stack_rule = per_layer_rule("units", "dropout", "recurrent_dropout", "activation")


def keras_cell(cell: str):
    import keras

    return {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM, "simple_rnn": keras.layers.SimpleRNN}[cell]


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
        log.warning(
            "%s: %s rule(s) out the cuDNN kernel on a GPU, where Keras then runs its "
            "generic kernel, several times slower (no change on a CPU). cuDNN needs "
            "activation=tanh and recurrent_dropout=0 (model.activation and "
            "model.recurrent_dropout; model.rnn.* in the conv1d_* presets).",
            cell.upper(),
            " and ".join(dict.fromkeys(blockers)),
        )


@checked("model.rnn", stack_rule)
def recurrent_stack(
    x,
    /,
    *,
    cell: Cell,
    units: Units,
    dropout: PerLayerDrop,
    recurrent_dropout: PerLayerDrop,
    activation: PerLayerActivation,
    bidirectional: bool,
):
    """One recurrent layer per entry of `units`; all but the last return sequences."""
    import keras

    units = as_list(units)
    layers = len(units)
    settings = zip(
        units,
        per_layer(dropout, layers),
        per_layer(recurrent_dropout, layers),
        per_layer(activation, layers),
        strict=True,
    )
    blockers = []
    for i, (n, drop, rec_drop, act) in enumerate(settings):
        blockers += cudnn_blockers(cell, act, rec_drop)
        layer = keras_cell(cell)(
            n, dropout=drop, recurrent_dropout=rec_drop, activation=act, return_sequences=i < layers - 1
        )
        x = keras.layers.Bidirectional(layer)(x) if bidirectional else layer(x)
    warn_without_cudnn(cell, blockers)
    return x


@accepts("timeseries", "tokens")
@checked("model", stack_rule)
def build_recurrent(
    spec: DataSpec,
    /,
    *,
    cell: Cell,
    units: Units,
    dropout: PerLayerDrop,  # input dropout
    recurrent_dropout: PerLayerDrop,
    activation: PerLayerActivation,
    bidirectional: bool,
    head_dropout: DropFraction,  # DLwP 2nd ed.'s Dropout before the head
    embedding: Annotated[dict, KwargsOf(token_vectors)] | None,  # token input only
):
    """DLwP's recurrent models."""
    import keras

    inputs = model_input(spec)
    x = embed_tokens(inputs, spec, embedding)
    x = recurrent_stack(
        x,
        cell=cell,
        units=units,
        dropout=dropout,
        recurrent_dropout=recurrent_dropout,
        activation=activation,
        bidirectional=bidirectional,
    )
    if head_dropout:
        x = keras.layers.Dropout(head_dropout)(x)
    return keras.Model(inputs, task_head(x, spec), name=f"{'bi' if bidirectional else ''}{cell}")
