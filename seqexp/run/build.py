"""Everything between the composed config and fit: the checks that refuse a bad model or name
before any data loads, the data and the model themselves, and trainer.fast's compile choices
(how many steps per call, whether XLA pays off for this model)."""

from __future__ import annotations

from hydra.errors import InstantiationException
from hydra.utils import get_method, instantiate
from omegaconf import DictConfig, OmegaConf

from seqexp.errors import SeqexpError
from seqexp.models.heads import check_compatible, check_length

# trainer.fast: at most this many batches per call into TensorFlow (Keras' steps_per_execution);
# 16 ran a Fashion-MNIST epoch in 0.70x, a Jena conv1d one in 0.63x the time of Keras' defaults
# (here, on CPU). Batch-level callbacks (the NaN guard) then see the loss once per call.
FAST_STEPS_PER_EXECUTION = 16


def xla_speeds_up(model) -> bool:
    """trainer.fast's XLA choice. Measured here on CPU, plain Keras, 16 steps per call: XLA ran
    the recurrent models' epochs faster (headlines 0.63 s against 0.95 s) but the convolutional
    ones 2.1-2.9x slower (Fashion-MNIST cnn 1.5-2.0 s against 0.70 s, Jena conv1d 0.61 s against
    0.29 s), so a model with a convolution layer keeps Keras' kernels (and TF's deterministic
    ops). `trainer.jit_compile=true` forces XLA on any model."""
    import keras

    def layers(layer):
        for inner in getattr(layer, "layers", []):
            yield inner
            yield from layers(inner)

    convolutions = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
    return not any(isinstance(layer, convolutions) for layer in layers(model))


def steps_per_execution(steps_per_epoch: int, most: int = FAST_STEPS_PER_EXECUTION) -> int:
    """The largest divisor of steps_per_epoch up to `most`. On seqexp's endless training stream
    Keras runs whole calls of steps_per_execution batches, so one that does not divide the epoch
    would train more batches per epoch than asked (and shift every later epoch's batches)."""
    return max(n for n in range(1, min(most, steps_per_epoch) + 1) if steps_per_epoch % n == 0)


def keras_name_problems(cfg: DictConfig) -> list[str]:
    """The loss, metric and activation names of the config that Keras would not know, each as
    `key=value` and what is allowed; checked by Keras' own lookups, before data is loaded (a
    bad name would otherwise surface as a ValueError deep inside model building or fit)."""
    import keras

    from seqexp.models.metrics import SEQEXP_METRICS

    def known(lookup, name) -> bool:
        try:
            lookup(name)
        except (ValueError, TypeError):
            return False
        return True

    problems = []
    loss = cfg.trainer.loss
    if loss is not None and not known(keras.losses.get, loss):
        problems.append(
            f"trainer.loss={loss} is not a Keras loss (e.g. mse, mae, huber, binary_crossentropy, "
            "sparse_categorical_crossentropy; null: the task's default)"
        )
    for name in cfg.trainer.metrics or ():
        alias = name in SEQEXP_METRICS or str(name).lower() in ("accuracy", "acc")  # compile's aliases
        if not alias and not known(keras.metrics.get, name):
            problems.append(
                f"trainer.metrics has {name}, which is not a Keras metric (e.g. mae, mse, accuracy, "
                f"auc, {', '.join(SEQEXP_METRICS)}; null: the task's default)"
            )
    activations = sorted(n for n in dir(keras.activations) if n not in ("get", "serialize", "deserialize"))
    for key, value in _activations(cfg.model, "model"):
        unknown = [
            n for n in (value if isinstance(value, list) else [value]) if not known(keras.activations.get, n)
        ]
        if unknown:  # the first unknown name of the setting
            problems.append(
                f"{key}={_text(value)} names {unknown[0]!r}, which is not a Keras activation (one of "
                f"{', '.join(n for n in activations if not n.startswith('_'))})"
            )
    return problems


def _text(value) -> str:
    return f"[{', '.join(map(str, value))}]" if isinstance(value, list) else str(value)


def _activations(node, prefix: str):
    """(dotted key, value) of every `*activation` setting under a config node."""
    for key, value in node.items():
        if OmegaConf.is_dict(value):
            yield from _activations(value, f"{prefix}.{key}")
        elif "activation" in str(key) and value is not None:
            yield f"{prefix}.{key}", list(value) if OmegaConf.is_list(value) else value


def build(cfg: DictConfig, data_name: str, model_name: str):
    """Refuse an incompatible model and names Keras does not know before loading data, then load
    data and build the model."""
    builder = get_method(cfg.model._target_)
    loader = get_method(cfg.data._target_)
    check_compatible(builder, loader.input_kind, model_name, data_name)
    if getattr(loader, "sequence_length", None) is not None:  # known from the config alone
        data_values = OmegaConf.to_container(cfg.data, resolve=True)
        check_length(builder, cfg.model, loader.sequence_length(data_values), model_name, f"data={data_name}")
    problems = keras_name_problems(cfg)
    if problems:
        count = f"{len(problems)} bad names: " if len(problems) > 1 else ""
        raise SeqexpError(count + "; ".join(problems) + ".")
    try:
        data = instantiate(cfg.data)
        model = instantiate(cfg.model)(data.spec)
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, SeqexpError):
            raise cause from None
        raise SeqexpError(f"Could not build data={data_name} / model={model_name}: {cause or err}") from None
    return data, model
