"""Fully connected: Flatten -> Dense(relu) x N (optional dropout) -> task head."""

from __future__ import annotations

import keras

from seqexp.data.spec import DataSpec
from seqexp.models.heads import accepts, as_list, embed_tokens, model_input, task_head


@accepts("timeseries", "tokens", "image")
def build_dense(spec: DataSpec, units=(32,), activation="relu", dropout=0.0,
                embedding=None) -> keras.Model:
    inputs = model_input(spec)
    x = keras.layers.Flatten()(embed_tokens(inputs, spec, embedding))
    for n in as_list(units):
        x = keras.layers.Dense(n, activation=activation)(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    return keras.Model(inputs, task_head(x, spec), name="dense")
