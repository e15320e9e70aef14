"""2D convolutions for images (HG 8-2): Conv2D -> MaxPool2D blocks -> Flatten -> Dense ->
Dropout -> task head. Layers are named conv1, pool1, ... so reports and summaries read easily."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from seqexp.config.checks import checked
from seqexp.config.types import DropFraction, PositiveInt
from seqexp.data.spec import DataSpec
from seqexp.errors import SeqexpError
from seqexp.models.heads import accepts, as_list, model_input, per_layer, per_layer_rule, task_head


def conv_output_size(size: int, kernel: int, pool: int, padding: str) -> int:
    """One spatial side after a conv (stride 1) and a max pool (stride = pool, no padding)."""
    if padding == "valid":
        size -= kernel - 1
    return size // pool if size > 0 else 0


@accepts("image")
@checked(
    "model", per_layer_rule("filters", "kernel_size", "pool_size"), per_layer_rule("dense_units", "dropout")
)
def build_cnn(
    spec: DataSpec,
    /,
    *,
    filters: Annotated[list[PositiveInt], Field(min_length=1)] | PositiveInt,  # one conv block each
    kernel_size: PositiveInt | list[PositiveInt],  # one value for every block, or one per block
    pool_size: PositiveInt | list[PositiveInt],  # the same; 1: no pooling
    padding: Literal["same", "valid"],
    activation: str,
    dense_units: PositiveInt | list[PositiveInt],  # one Dense per entry ([] for none)
    dropout: DropFraction | list[DropFraction],  # after each Dense: one value, or one per layer
):
    """One conv block per entry of `filters`, then one Dense per entry of `dense_units`."""
    import keras

    filters = as_list(filters)
    blocks = len(filters)
    kernels = per_layer(kernel_size, blocks)
    pools = per_layer(pool_size, blocks)
    height, width = spec.input_shape[:2]
    for k, p in zip(kernels, pools, strict=True):
        height = conv_output_size(height, k, p, padding)
        width = conv_output_size(width, k, p, padding)
        if height < 1 or width < 1:
            raise SeqexpError(
                f"model.filters={filters} with kernel_size={kernels}, pool_size={pools} and "
                f"padding={padding} shrink the {tuple(spec.input_shape[:2])} images to nothing; "
                f"use fewer blocks, smaller pools or padding=same."
            )

    inputs = model_input(spec)
    x = inputs
    for i, (n, k, p) in enumerate(zip(filters, kernels, pools, strict=True), start=1):
        x = keras.layers.Conv2D(n, k, activation=activation, padding=padding, name=f"conv{i}")(x)
        if p > 1:
            x = keras.layers.MaxPooling2D(p, name=f"pool{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    units = as_list(dense_units)
    for i, (n, drop) in enumerate(zip(units, per_layer(dropout, len(units) or 1), strict=False), start=1):
        x = keras.layers.Dense(n, activation=activation, name=f"dense{i}")(x)
        if drop:
            x = keras.layers.Dropout(drop, name=f"dropout{i}")(x)
    return keras.Model(inputs, task_head(x, spec), name="cnn")
