"""Recurrent stacks: SimpleRNN / LSTM / GRU, stacked, with dropout, optionally bidirectional."""

from __future__ import annotations

import keras

from seqexp.data.spec import DataSpec
from seqexp.errors import SeqexpError
from seqexp.models.heads import accepts, as_list, embed_tokens, model_input, per_layer, task_head

CELLS = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


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
    for i, (n, drop, rec_drop, act) in enumerate(settings):
        layer = CELLS[cell](
            n, dropout=drop, recurrent_dropout=rec_drop, activation=act,
            return_sequences=i < layers - 1,
        )
        x = keras.layers.Bidirectional(layer)(x) if bidirectional else layer(x)
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
