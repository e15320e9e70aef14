"""1D convolutions: Conv1D blocks with max pooling between them, then a global max pool or a
recurrent layer that reads the shortened sequence (DLwP's conv + GRU)."""

from __future__ import annotations

import keras

from seqexp.data.spec import DataSpec
from seqexp.models.heads import accepts, embed_tokens, model_input, task_head
from seqexp.models.recurrent import recurrent_stack


@accepts("timeseries", "tokens")
def build_conv1d(spec: DataSpec, filters=32, kernel_size=5, pool_size=3, conv_layers=3,
                 activation="relu", rnn=None, embedding=None) -> keras.Model:
    """`rnn`: null for GlobalMaxPool1D on top, or the kwargs of a recurrent stack."""
    inputs = model_input(spec)
    x = embed_tokens(inputs, spec, embedding)
    for i in range(conv_layers):
        x = keras.layers.Conv1D(filters, kernel_size, activation=activation)(x)
        if i < conv_layers - 1:
            x = keras.layers.MaxPooling1D(pool_size)(x)
    if rnn:
        x = recurrent_stack(x, **rnn)
    else:
        x = keras.layers.GlobalMaxPooling1D()(x)
    return keras.Model(inputs, task_head(x, spec), name="conv1d" + (f"_{rnn['cell']}" if rnn else ""))
