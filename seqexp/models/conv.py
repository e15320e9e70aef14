"""1D convolutions: Conv1D blocks with max pooling between them, then a global max pool or a
recurrent layer that reads the shortened sequence (DLwP's conv + GRU)."""

from __future__ import annotations

from typing import Annotated

from seqexp.config.checks import checked
from seqexp.config.types import KwargsOf, PositiveInt
from seqexp.data.spec import DataSpec
from seqexp.models.embedding import token_vectors
from seqexp.models.heads import accepts, check_length, embed_tokens, model_input, task_head
from seqexp.models.recurrent import recurrent_stack


@accepts("timeseries", "tokens")
@checked("model")
def build_conv1d(
    spec: DataSpec,
    /,
    *,
    filters: PositiveInt,
    kernel_size: PositiveInt,
    pool_size: PositiveInt,  # MaxPool1D between consecutive conv layers
    conv_layers: PositiveInt,
    activation: str,
    rnn: Annotated[dict, KwargsOf(recurrent_stack)] | None,  # null: GlobalMaxPool1D on top
    embedding: Annotated[dict, KwargsOf(token_vectors)] | None,  # token input only
):
    import keras

    model = {"kernel_size": kernel_size, "pool_size": pool_size, "conv_layers": conv_layers}
    check_length(build_conv1d, model, spec.input_shape[0], "conv1d", "the data")
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


def shortest_input(model: dict) -> int:
    """each Conv1D drops kernel_size - 1 timesteps, each MaxPool1D divides by pool_size"""
    length = model["kernel_size"]  # the last conv needs one window
    for _ in range(model["conv_layers"] - 1):
        length = length * model["pool_size"] + model["kernel_size"] - 1
    return length


build_conv1d.shortest_input = shortest_input
