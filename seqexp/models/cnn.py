"""2D convolutions for images (HG 8-2): Conv2D -> MaxPool2D blocks -> Flatten -> Dense ->
Dropout -> task head. Layers are named conv1, pool1, ... so reports and summaries read easily."""

from __future__ import annotations

import keras

from seqexp.data.spec import DataSpec
from seqexp.errors import SeqexpError
from seqexp.models.heads import accepts, as_list, model_input, per_layer, task_head

PADDINGS = ("same", "valid")


def conv_output_size(size: int, kernel: int, pool: int, padding: str) -> int:
    """One spatial side after a conv (stride 1) and a max pool (stride = pool, no padding)."""
    if padding == "valid":
        size -= kernel - 1
    return size // pool if size > 0 else 0


@accepts("image")
def build_cnn(spec: DataSpec, filters=(32, 64), kernel_size=3, pool_size=2, padding="same",
              activation="relu", dense_units=(100,), dropout=0.4) -> keras.Model:
    """One conv block per entry of `filters`; `kernel_size` and `pool_size` are one value for
    every block or one per block (pool 1 = no pooling); one Dense per entry of `dense_units`."""
    filters = as_list(filters)
    blocks = len(filters)
    if blocks == 0 or any(int(f) < 1 for f in filters):
        raise SeqexpError(f"model.filters={filters} must list at least one positive filter count.")
    if padding not in PADDINGS:
        raise SeqexpError(f"model.padding={padding!r} is not one of {PADDINGS}.")
    kernels = per_layer(kernel_size, blocks, "kernel_size")
    pools = per_layer(pool_size, blocks, "pool_size")
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
    for i, (n, drop) in enumerate(zip(units, per_layer(dropout, len(units) or 1, "dropout"),
                                      strict=False), start=1):
        x = keras.layers.Dense(n, activation=activation, name=f"dense{i}")(x)
        if drop:
            x = keras.layers.Dropout(drop, name=f"dropout{i}")(x)
    return keras.Model(inputs, task_head(x, spec), name="cnn")
