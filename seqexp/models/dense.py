"""Fully connected: Flatten -> Dense(relu) x N (optional dropout) -> task head."""

from __future__ import annotations

from typing import Annotated

from seqexp.config.checks import checked
from seqexp.config.types import DropFraction, KwargsOf, PositiveInt
from seqexp.data.spec import DataSpec
from seqexp.models.embedding import token_vectors
from seqexp.models.heads import accepts, as_list, embed_tokens, model_input, task_head


@accepts("timeseries", "tokens", "image")
@checked("model")
def build_dense(
    spec: DataSpec,
    /,
    *,
    units: PositiveInt | list[PositiveInt],  # Dense layers between Flatten and the head; [] for none
    activation: str,
    dropout: DropFraction,
    embedding: Annotated[dict, KwargsOf(token_vectors)] | None,
):
    import keras

    inputs = model_input(spec)
    x = keras.layers.Flatten()(embed_tokens(inputs, spec, embedding))
    for n in as_list(units):
        x = keras.layers.Dense(n, activation=activation)(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    return keras.Model(inputs, task_head(x, spec), name="dense")
