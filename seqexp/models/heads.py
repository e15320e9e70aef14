"""What every builder shares: the input kinds it accepts, the input layer and the task head."""

from __future__ import annotations

from collections.abc import Sequence

from seqexp.config.checks import show
from seqexp.data.spec import INPUT_KINDS, DataSpec
from seqexp.errors import SeqexpError

# task -> (output activation, default loss, default metrics)
TASK_HEADS = {
    "regression": (None, "mae", ["mae"]),
    "binary": ("sigmoid", "binary_crossentropy", ["accuracy"]),
    "multiclass": ("softmax", "sparse_categorical_crossentropy", ["accuracy"]),
    "next_token": ("softmax", "sparse_categorical_crossentropy", ["accuracy", "perplexity"]),
}


def accepts(*input_kinds: str):
    """Mark a builder with the input kinds it can be built on."""
    bad = set(input_kinds) - set(INPUT_KINDS)
    if bad:
        raise ValueError(f"unknown input kinds {sorted(bad)}; known: {INPUT_KINDS}")

    def mark(builder):
        builder.input_kinds = tuple(input_kinds)
        return builder

    return mark


def check_compatible(builder, input_kind: str, model_name: str, data_name: str) -> None:
    kinds = getattr(builder, "input_kinds", ())
    if input_kind not in kinds:
        options = models_for(input_kind)
        raise SeqexpError(
            f"model={model_name} cannot take the {input_kind} input of data={data_name}: it takes "
            f"{' or '.join(kinds) or 'no known input'}. Pick a model built for {input_kind} input"
            + (f": model={', '.join(options)}." if options else ".")
        )


def check_length(builder, model: dict, timesteps: int, model_name: str, where: str) -> None:
    """A builder that shortens its input (convolutions, pooling) declares `shortest_input(model
    config)`; fewer timesteps than that is refused here, before Keras finds a zero-length output."""
    shortest = getattr(builder, "shortest_input", None)
    if shortest is None:
        return
    needed = shortest(model)
    if timesteps < needed:
        raise SeqexpError(
            f"model={model_name} needs inputs of at least {needed} timesteps ({shortest.__doc__}), "
            f"and {where} gives {timesteps}. Lengthen the input, or use fewer or smaller layers "
            f"(model.conv_layers, model.kernel_size, model.pool_size)."
        )


def models_for(input_kind: str) -> list[str]:
    """The model options of conf/model whose builder takes `input_kind` (read from @accepts)."""
    from hydra.utils import get_method

    from seqexp.config import CONF_DIR

    options = []
    for path in sorted((CONF_DIR / "model").glob("*.yaml")):
        target = preset_target(path)
        try:
            kinds = getattr(get_method(target), "input_kinds", ()) if target else ()
        except Exception:  # an option whose builder cannot be imported is not a suggestion
            continue
        if input_kind in kinds:
            options.append(path.stem)
    return options


def preset_target(path) -> str | None:
    """The `_target_` of a model preset, or of the base preset it extends (its first default)."""
    from omegaconf import OmegaConf

    node = OmegaConf.load(path)
    if "_target_" in node:
        return node["_target_"]
    for entry in node.get("defaults") or []:
        if isinstance(entry, str) and entry != "_self_":
            return preset_target(path.with_name(f"{entry}.yaml"))
    return None


def output_units(spec: DataSpec) -> int:
    if spec.task in ("regression", "binary"):
        return 1
    if spec.task == "multiclass":
        return spec.num_classes
    return spec.vocab_size


def model_input(spec: DataSpec):
    import keras

    dtype = "int32" if spec.input_kind == "tokens" else "float32"
    return keras.Input(shape=spec.input_shape, dtype=dtype, name=spec.input_kind)


def embed_tokens(x, spec: DataSpec, embedding):
    """Token ids -> vectors; other input kinds pass through unchanged.

    `embedding` is the model's `embedding` config ({dim, trainable, pretrained, one_hot}, see
    embedding.py); it is used only for token input, so one preset (e.g. model=lstm) serves both
    Jena windows and IMDB reviews.
    """
    if spec.input_kind != "tokens":
        return x
    from seqexp.models.embedding import token_vectors

    return token_vectors(x, spec, **(embedding or {}))


def task_head(x, spec: DataSpec):
    """The output layer the task calls for: Dense(1) for regression, sigmoid, softmax."""
    import keras

    activation = TASK_HEADS[spec.task][0]
    return keras.layers.Dense(output_units(spec), activation=activation, name="head", dtype="float32")(x)


def as_list(value) -> list:
    """A list from a scalar or any sequence (config lists arrive as ListConfig)."""
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]


def per_layer(value, layers: int) -> list:
    """A scalar (or one-element list) applies to every layer; a list gives one value per layer
    (its length is checked before the build by `per_layer_rule`)."""
    values = as_list(value)
    return values * layers if len(values) == 1 else values


def per_layer_rule(layers_key: str, *keys: str):
    """A rule: each of `keys` holds one value, or one per layer of `layers_key` (e.g. units)."""

    def rule(values: dict):
        layers = len(as_list(values[layers_key]))
        for key in keys:
            given = values[key]
            if isinstance(given, list) and len(given) not in (1, layers):
                yield (
                    key,
                    given,
                    f"has {len(given)} values for {layers} layers (model.{layers_key}="
                    f"{show(values[layers_key])}); give one value, or one per layer",
                )

    rule.__name__ = f"per_layer({layers_key})"
    return rule
