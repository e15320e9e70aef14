"""The shape of every config group (structured-config schemas) and the checks of its values.

Each option under conf/data, conf/model, conf/optimizer, conf/trainer and conf/callbacks names
its schema first in its defaults list, e.g. conf/data/jena.yaml:

    defaults:
      - /data_schema_jena@_here_
      - _self_

so Hydra refuses, while composing, a key the schema does not have or a value of the wrong type,
naming the key. The schemas are stored in Hydra's ConfigStore at the root (not in a config group)
so that `seqexp train --help` and shell completion list only the real options. Every field is
MISSING in the schema: its value lives in the YAML file, in one place.

`check(cfg)` then checks the values a type cannot (a dropout of 1.5, a split that ends before it
starts) and reports every bad value in one SeqexpError, before TensorFlow is imported. The schema
fields mirror the keyword parameters of the loader or builder named by `_target_`
(tests/test_bad_config.py checks it), so no key is accepted and then ignored.

This module imports neither TensorFlow nor Keras: the CLI imports it for `--help`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf

from seqexp.errors import SeqexpError

# ---- data ---------------------------------------------------------------------------------


@dataclass
class JenaSplitSchema:
    # [start, end): ints are row indices, floats fractions of the rows, end null = end of file
    train: list[Any] = MISSING
    val: list[Any] = MISSING
    test: list[Any] = MISSING


@dataclass
class JenaSchema:
    _target_: str = MISSING
    path: str | None = MISSING
    url: str = MISSING
    sha256: str | None = MISSING
    size: int | None = MISSING
    cache_dir: str | None = MISSING
    target: str = MISSING
    features: list[str] | None = MISSING
    split: JenaSplitSchema = field(default_factory=JenaSplitSchema)
    lookback: int = MISSING
    step: int = MISSING
    delay: int = MISSING
    batch_size: int = MISSING
    reverse: bool = MISSING
    windows: str = MISSING
    seed: int = MISSING


@dataclass
class ImdbSchema:
    _target_: str = MISSING
    path: str | None = MISSING
    url: str = MISSING
    sha256: str | None = MISSING
    size: int | None = MISSING
    word_index: str | None = MISSING
    word_index_url: str = MISSING
    word_index_size: int | None = MISSING
    cache_dir: str | None = MISSING
    encoding: str = MISSING
    num_words: int | None = MISSING
    skip_top: int = MISSING
    start_char: int | None = MISSING
    oov_char: int | None = MISSING
    index_from: int = MISSING
    shuffle_seed: int | None = MISSING
    maxlen: int | None = MISSING
    padding: str = MISSING
    truncating: str = MISSING
    validation_split: float = MISSING
    validation_mode: str = MISSING
    validation_seed: int = MISSING
    batch_size: int = MISSING
    seed: int = MISSING


@dataclass
class ImdbRawSchema:
    _target_: str = MISSING
    path: str | None = MISSING
    url: str = MISSING
    sha256: str | None = MISSING
    size: int | None = MISSING
    cache_dir: str | None = MISSING
    max_tokens: int = MISSING
    maxlen: int = MISSING
    padding: str = MISSING
    truncating: str = MISSING
    standardize: str | None = MISSING
    training_samples: int = MISSING
    validation_samples: int | None = MISSING
    test_samples: int | None = MISSING
    vocabulary_from: str = MISSING
    batch_size: int = MISSING
    seed: int = MISSING


@dataclass
class IdxFileSchema:
    name: str = MISSING
    sha256: str | None = MISSING
    size: int | None = MISSING


@dataclass
class FashionMnistFilesSchema:
    train_images: IdxFileSchema = field(default_factory=IdxFileSchema)
    train_labels: IdxFileSchema = field(default_factory=IdxFileSchema)
    test_images: IdxFileSchema = field(default_factory=IdxFileSchema)
    test_labels: IdxFileSchema = field(default_factory=IdxFileSchema)


@dataclass
class FashionMnistSchema:
    _target_: str = MISSING
    path: str | None = MISSING
    base_url: str = MISSING
    files: FashionMnistFilesSchema = field(default_factory=FashionMnistFilesSchema)
    cache_dir: str | None = MISSING
    class_names: list[str] = MISSING
    validation_split: float = MISSING
    split_seed: int = MISSING
    batch_size: int = MISSING
    seed: int = MISSING


@dataclass
class HeadlinesSchema:
    _target_: str = MISSING
    path: str | None = MISSING
    column: str = MISSING
    drop: list[str] | None = MISSING
    fold_ascii: bool = MISSING
    strip_punctuation: bool = MISSING
    lowercase: bool = MISSING
    max_length: int | None = MISSING
    val_fraction: float | None = MISSING
    batch_size: int = MISSING
    seed: int = MISSING
    vocabulary_file: str | None = MISSING
    sample_prompts: list[str] = MISSING
    sample_words: int = MISSING


# ---- models -------------------------------------------------------------------------------
# Values that are "one for every layer, or one per layer" (units, dropout, activation, ...) are
# Any: OmegaConf 2.3 has no Union of a scalar and a list. check() checks their values.


@dataclass
class EmbeddingSchema:
    dim: int | None = MISSING
    trainable: bool = MISSING
    pretrained: str | None = MISSING
    one_hot: bool = MISSING
    cache_dir: str | None = MISSING


@dataclass
class RecurrentStackSchema:  # seqexp.models.recurrent.recurrent_stack, model.rnn of conv1d
    cell: str = MISSING
    units: Any = MISSING
    dropout: Any = MISSING
    recurrent_dropout: Any = MISSING
    activation: Any = MISSING
    bidirectional: bool = MISSING


@dataclass
class RecurrentSchema:
    _target_: str = MISSING
    _partial_: bool = MISSING
    cell: str = MISSING
    units: Any = MISSING
    dropout: Any = MISSING
    recurrent_dropout: Any = MISSING
    activation: Any = MISSING
    bidirectional: bool = MISSING
    head_dropout: float = MISSING
    embedding: EmbeddingSchema = field(default_factory=EmbeddingSchema)


@dataclass
class Conv1DSchema:
    _target_: str = MISSING
    _partial_: bool = MISSING
    filters: int = MISSING
    kernel_size: int = MISSING
    pool_size: int = MISSING
    conv_layers: int = MISSING
    activation: str = MISSING
    rnn: RecurrentStackSchema | None = MISSING
    embedding: EmbeddingSchema = field(default_factory=EmbeddingSchema)


@dataclass
class DenseSchema:
    _target_: str = MISSING
    _partial_: bool = MISSING
    units: Any = MISSING
    activation: str = MISSING
    dropout: float = MISSING
    embedding: EmbeddingSchema = field(default_factory=EmbeddingSchema)


@dataclass
class CnnSchema:
    _target_: str = MISSING
    _partial_: bool = MISSING
    filters: Any = MISSING
    kernel_size: Any = MISSING
    pool_size: Any = MISSING
    padding: str = MISSING
    activation: str = MISSING
    dense_units: Any = MISSING
    dropout: Any = MISSING


@dataclass
class NaiveSchema:
    _target_: str = MISSING
    _partial_: bool = MISSING


# ---- optimizers, trainer, callbacks --------------------------------------------------------


@dataclass
class OptimizerSchema:
    """What every Keras optimizer takes: the rate, weight decay and gradient clipping."""

    _target_: str = MISSING
    learning_rate: float = MISSING
    weight_decay: float | None = MISSING
    clipnorm: float | None = MISSING  # clip each gradient to this norm (RNNs: e.g. 1.0)
    clipvalue: float | None = MISSING
    global_clipnorm: float | None = MISSING


@dataclass
class RMSpropSchema(OptimizerSchema):
    rho: float = MISSING


@dataclass
class AdamSchema(OptimizerSchema):
    beta_1: float = MISSING
    beta_2: float = MISSING


@dataclass
class SGDSchema(OptimizerSchema):
    momentum: float = MISSING


@dataclass
class AdagradSchema(OptimizerSchema):
    pass


@dataclass
class TrainerSchema:
    epochs: int = MISSING
    batch_size: int = MISSING
    steps_per_epoch: int | None = MISSING
    validation_steps: int | None = MISSING
    test_steps: int | None = MISSING
    seed: int = MISSING
    verbose: int = MISSING
    monitor: str = MISSING
    mode: str = MISSING
    loss: str | None = MISSING
    metrics: list[str] | None = MISSING
    threads: Any = MISSING  # auto | N | null
    strategy: str | None = MISSING
    cpu_devices: int | None = MISSING
    mixed_precision: bool = MISSING
    jit_compile: bool = MISSING


# `_target_` is a plain str: the callback classes may be subclasses (seqexp.callbacks.Atomic...).
@dataclass
class CheckpointSchema:
    enabled: bool = MISSING
    _target_: str = MISSING
    filepath: str = MISSING
    monitor: str | None = MISSING
    mode: str | None = MISSING
    save_best_only: bool = MISSING


@dataclass
class EarlyStoppingSchema:
    enabled: bool = MISSING
    _target_: str = MISSING
    monitor: str | None = MISSING
    mode: str | None = MISSING
    patience: int = MISSING
    restore_best_weights: bool = MISSING


@dataclass
class TensorBoardSchema:
    enabled: bool = MISSING
    _target_: str = MISSING
    log_dir: str = MISSING


@dataclass
class BackupSchema:
    enabled: bool = MISSING
    _target_: str = MISSING
    backup_dir: str = MISSING


@dataclass
class CallbacksSchema:
    checkpoint: CheckpointSchema = field(default_factory=CheckpointSchema)
    early_stopping: EarlyStoppingSchema = field(default_factory=EarlyStoppingSchema)
    tensorboard: TensorBoardSchema = field(default_factory=TensorBoardSchema)
    backup: BackupSchema = field(default_factory=BackupSchema)


# ConfigStore name (what a YAML option lists in its defaults as `/<name>@_here_`) -> schema.
SCHEMAS = {
    "data_schema_jena": JenaSchema,
    "data_schema_imdb": ImdbSchema,
    "data_schema_imdb_raw": ImdbRawSchema,
    "data_schema_fashion_mnist": FashionMnistSchema,
    "data_schema_headlines": HeadlinesSchema,
    "model_schema_recurrent": RecurrentSchema,
    "model_schema_conv1d": Conv1DSchema,
    "model_schema_dense": DenseSchema,
    "model_schema_cnn": CnnSchema,
    "model_schema_naive": NaiveSchema,
    "optimizer_schema_rmsprop": RMSpropSchema,
    "optimizer_schema_adam": AdamSchema,
    "optimizer_schema_sgd": SGDSchema,
    "optimizer_schema_adagrad": AdagradSchema,
    "trainer_schema": TrainerSchema,
    "callbacks_schema": CallbacksSchema,
}


def register() -> None:
    """Store every schema in Hydra's ConfigStore (idempotent; seqexp.cli calls it on import)."""
    store = ConfigStore.instance()
    for name, schema in SCHEMAS.items():
        store.store(name=name, node=schema)


# ---- value checks --------------------------------------------------------------------------
# Allowed words, kept here so this module stays free of the loaders' imports; a test keeps them
# equal to the loaders' and builders' own tuples.
CELLS = ("gru", "lstm", "simple_rnn")
PAD_SIDES = ("pre", "post")
CONV_PADDINGS = ("same", "valid")
IMDB_ENCODINGS = ("auto", "ranks", "indexed")
VALIDATION_MODES = ("last", "random")
VOCABULARY_SOURCES = ("training_split", "train_folder")
MODES = ("min", "max", "auto")
STRATEGIES = (None, "mirrored", "multi_worker")
SPLITS = ("train", "val", "test")
JENA_WINDOWS = ("dlwp1", "dlwp2")


class Problems:
    """Bad values found so far, each a sentence naming the key, the value and what is allowed."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, key: str, value, allowed: str) -> None:
        self.items.append(f"{key}={_show(value)} {allowed}")

    def raise_if_any(self) -> None:
        if len(self.items) == 1:
            raise SeqexpError(f"{self.items[0]}.")
        if self.items:
            raise SeqexpError(f"{len(self.items)} bad config values: " + "; ".join(self.items) + ".")


def _show(value) -> str:
    if isinstance(value, (ListConfig, DictConfig)):
        value = OmegaConf.to_container(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value).replace("'", "") if isinstance(value, list) else str(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _values(value) -> list:
    """A per-layer setting as a list (a scalar applies to every layer)."""
    return list(value) if isinstance(value, (list, tuple, ListConfig)) else [value]


def _own(node: DictConfig, key: str) -> bool:
    """True if node.key is set here, not interpolated from elsewhere (reported there once)."""
    return key in node and not OmegaConf.is_interpolation(node, key)


def check(cfg: DictConfig) -> None:
    """Refuse every bad value of a composed train config in one SeqexpError, before any import
    of TensorFlow. Values a type cannot rule out: ranges, orderings, allowed words."""
    problems = Problems()
    for group in ("data", "model", "optimizer", "trainer", "callbacks"):
        if group in cfg and isinstance(cfg[group], DictConfig):
            _check_keys(cfg[group], group, problems)
    if "trainer" in cfg:
        _check_trainer(cfg.trainer, problems)
    if "data" in cfg:
        _check_data(cfg.data, problems)
    if "model" in cfg:
        _check_model(cfg.model, "model", problems)
    if "optimizer" in cfg:
        _check_optimizer(cfg.optimizer, problems)
    if "callbacks" in cfg:
        _check_callbacks(cfg.callbacks, problems)
    problems.raise_if_any()


def _check_keys(node: DictConfig, prefix: str, problems: Problems) -> None:
    """Keys a schema does not have. Hydra refuses them while composing, except those added with
    `+key=value`: Hydra opens the struct flag to append them."""
    schema = OmegaConf.get_type(node)
    known = [f.name for f in dataclasses.fields(schema)] if dataclasses.is_dataclass(schema) else None
    for key in node.keys():
        if known is not None and key not in known:
            keys = ", ".join(k for k in known if not k.startswith("_"))
            problems.add(f"{prefix}.{key}", OmegaConf.to_container(node)[key],
                         f"is not a key of {prefix}; its keys are {keys}")
        elif not OmegaConf.is_interpolation(node, key) and isinstance(node[key], DictConfig):
            _check_keys(node[key], f"{prefix}.{key}", problems)


def _at_least(node, prefix: str, key: str, low: int, problems: Problems, what: str = "",
              nullable: bool = False) -> None:
    if not _own(node, key):
        return
    value = node[key]
    if value is None and nullable:
        return
    if not _is_int(value) or value < low:
        null = " or null" if nullable else ""
        problems.add(f"{prefix}.{key}", value, f"must be an integer of at least {low}{null}{what}")


def _fraction(node, prefix: str, key: str, problems: Problems, *, closed_low: bool,
              what: str = "", nullable: bool = False) -> None:
    """A value in [0, 1) (closed_low) or (0, 1); a list is checked entry by entry."""
    if not _own(node, key):
        return
    value = node[key]
    if value is None and nullable:
        return
    bad = [v for v in _values(value)
           if not _is_number(v) or not (0 <= v < 1 if closed_low else 0 < v < 1)]
    if bad or (isinstance(value, ListConfig) and len(value) == 0):
        interval = "in [0, 1)" if closed_low else "strictly between 0 and 1"
        null = ", or null" if nullable else ""
        problems.add(f"{prefix}.{key}", value, f"must be {interval}{what}{null}")


def _choice(node, prefix: str, key: str, allowed, problems: Problems) -> None:
    if _own(node, key) and node[key] not in allowed:
        words = ", ".join("null" if a is None else str(a) for a in allowed)
        problems.add(f"{prefix}.{key}", node[key], f"is not allowed; choose one of {words}")


def _check_trainer(trainer: DictConfig, problems: Problems) -> None:
    _at_least(trainer, "trainer", "epochs", 1, problems)
    _at_least(trainer, "trainer", "batch_size", 1, problems)
    for key in ("steps_per_epoch", "validation_steps", "test_steps"):
        _at_least(trainer, "trainer", key, 1, problems, " (null: the whole split)", nullable=True)
    _at_least(trainer, "trainer", "cpu_devices", 1, problems, nullable=True)
    _choice(trainer, "trainer", "verbose", (0, 1, 2), problems)
    _choice(trainer, "trainer", "mode", MODES, problems)
    _choice(trainer, "trainer", "strategy", STRATEGIES, problems)
    if _own(trainer, "monitor") and not trainer.monitor:
        problems.add("trainer.monitor", "''", "must name a logged metric, e.g. val_loss")
    if _own(trainer, "threads"):
        threads = trainer.threads
        if not (threads is None or threads == "auto" or (_is_int(threads) and threads >= 1)):
            problems.add("trainer.threads", threads,
                         "is not valid; use auto, a positive number of threads, or null")


def _check_data(data: DictConfig, problems: Problems) -> None:
    p = "data"
    _at_least(data, p, "batch_size", 1, problems)
    # Jena windows
    _at_least(data, p, "lookback", 1, problems, " (rows of history per window)")
    _at_least(data, p, "step", 1, problems, " (keep one row in step)")
    _at_least(data, p, "delay", 0, problems, " (rows between the window's end and the target)")
    lookback, step = data.get("lookback"), data.get("step")
    if _is_int(lookback) and _is_int(step) and lookback >= 1 and step > lookback:
        problems.add("data.step", step, f"must not exceed data.lookback={lookback} "
                                        "(a window needs at least one row)")
    _choice(data, p, "windows", JENA_WINDOWS, problems)
    if "split" in data and isinstance(data.split, DictConfig):
        _check_split(data.split, lookback if _is_int(lookback) else 0, problems)
    # token and text data
    _at_least(data, p, "maxlen", 1, problems, " (tokens per sample)", nullable=True)
    if _own(data, "num_words") and data.num_words is not None:
        floor = max(data.get("index_from", 0) or 0, data.get("skip_top", 0) or 0, 1)
        if not _is_int(data.num_words) or data.num_words <= floor:
            problems.add("data.num_words", data.num_words,
                         f"keeps no word; it must be above data.index_from and data.skip_top "
                         f"(here {floor}), e.g. 10000, or null for every word")
    _at_least(data, p, "skip_top", 0, problems)
    _at_least(data, p, "index_from", 0, problems)
    _at_least(data, p, "max_tokens", 3, problems, " (the vocabulary, padding and [UNK] included)")
    _at_least(data, p, "training_samples", 1, problems)
    _at_least(data, p, "validation_samples", 1, problems, nullable=True)
    _at_least(data, p, "test_samples", 1, problems, nullable=True)
    _at_least(data, p, "max_length", 2, problems, " (null: the longest headline)", nullable=True)
    _at_least(data, p, "sample_words", 1, problems)
    _fraction(data, p, "validation_split", problems, closed_low=False,
              what=" (the part of the training data held out, e.g. 0.2)")
    _fraction(data, p, "val_fraction", problems, closed_low=False,
              what=" (the headlines held out)", nullable=True)
    _choice(data, p, "padding", PAD_SIDES, problems)
    _choice(data, p, "truncating", PAD_SIDES, problems)
    _choice(data, p, "validation_mode", VALIDATION_MODES, problems)
    _choice(data, p, "encoding", IMDB_ENCODINGS, problems)
    _choice(data, p, "vocabulary_from", VOCABULARY_SOURCES, problems)
    if _own(data, "features") and data.features is not None and len(data.features) == 0:
        problems.add("data.features", [], "selects no column; give column names, or null for all")


def _check_split(split: DictConfig, lookback: int, problems: Problems) -> None:
    """[start, end) per split: both ints (rows) or floats (fractions); in order, not overlapping."""
    bounds = {}
    for name in SPLITS:
        if name not in split:
            continue
        value = split[name]
        key = f"data.split.{name}"
        if value is None or len(value) != 2:
            problems.add(key, value, "must be [start, end]: row indices (ints) or fractions of the "
                                     "rows (floats), end null for the end of the file")
            continue
        start, end = value
        kinds = {type(b) for b in (start, end) if b is not None}
        if start is None or kinds - {int, float} or any(isinstance(b, bool) for b in value):
            problems.add(key, value, "must be [start, end] with numbers (end may be null)")
            continue
        bad_float = [b for b in (start, end) if isinstance(b, float) and not 0 <= b <= 1]
        if bad_float:
            problems.add(key, value, "has fractions outside [0, 1]; floats are fractions of the rows")
            continue
        if isinstance(start, int) and start < 0 or isinstance(end, int) and end < 0:
            problems.add(key, value, "has a negative row index; rows count from 0")
            continue
        if end is not None and type(start) is type(end) and start >= end:
            problems.add(key, value, "is empty: start must be below end")
            continue
        if _is_int(start) and _is_int(end) and end - start <= lookback:
            problems.add(key, value, f"spans {end - start} rows, no more than data.lookback="
                                     f"{lookback}: no window fits; widen it or shorten the lookback")
            continue
        bounds[name] = (start, end)
    for first, second in zip(SPLITS, SPLITS[1:], strict=False):
        if first in bounds and second in bounds:
            end, start = bounds[first][1], bounds[second][0]
            if end is None or (type(end) is type(start) and end > start):
                problems.add(f"data.split.{second}", list(split[second]),
                             f"starts before data.split.{first}={_show(split[first])} ends; the "
                             f"splits must come in order train, val, test without overlapping")


def _check_model(model: DictConfig, prefix: str, problems: Problems) -> None:
    _choice(model, prefix, "cell", CELLS, problems)
    recurrent = "cell" in model
    for key in ("dropout", "recurrent_dropout", "head_dropout"):
        _fraction(model, prefix, key, problems, closed_low=True,
                  what=" (the fraction of units dropped)")
    # sizes: one positive integer, or a list of them (units / filters / dense_units per layer)
    for key in ("units", "filters", "kernel_size", "pool_size", "dense_units"):
        if not _own(model, key):
            continue
        value = model[key]
        values = _values(value)
        empty_ok = key == "dense_units" or (key == "units" and not recurrent)
        if any(not _is_int(v) or v < 1 for v in values) or (not values and not empty_ok):
            layers = "" if empty_ok else " (at least one)"
            problems.add(f"{prefix}.{key}", value,
                         f"must be a positive integer or a list of positive integers{layers}")
    _at_least(model, prefix, "conv_layers", 1, problems)
    _choice(model, prefix, "padding", CONV_PADDINGS, problems)
    if recurrent and _own(model, "units"):
        layers = len(_values(model.units))
        for key in ("dropout", "recurrent_dropout", "activation"):
            if _own(model, key) and isinstance(model[key], ListConfig) \
                    and len(model[key]) not in (1, layers):
                problems.add(f"{prefix}.{key}", model[key],
                             f"has {len(model[key])} values for {layers} layers (model.units="
                             f"{_show(model.units)}); give one value, or one per layer")
    if "embedding" in model and isinstance(model.embedding, DictConfig):
        _at_least(model.embedding, f"{prefix}.embedding", "dim", 1, problems, nullable=True)
    if "rnn" in model and isinstance(model.rnn, DictConfig):
        _check_model(model.rnn, f"{prefix}.rnn", problems)


def _check_optimizer(optimizer: DictConfig, problems: Problems) -> None:
    if _own(optimizer, "learning_rate"):
        lr = optimizer.learning_rate
        if not _is_number(lr) or lr <= 0:
            problems.add("optimizer.learning_rate", lr, "must be a number above 0, e.g. 1e-3")
    for key in ("rho", "beta_1", "beta_2"):
        _fraction(optimizer, "optimizer", key, problems, closed_low=True)
    if _own(optimizer, "momentum") and (not _is_number(optimizer.momentum) or optimizer.momentum < 0):
        problems.add("optimizer.momentum", optimizer.momentum, "must be a number of at least 0")
    clipping = [key for key in ("clipnorm", "clipvalue", "global_clipnorm")
                if _own(optimizer, key) and optimizer[key] is not None]
    for key in clipping:
        if not _is_number(optimizer[key]) or optimizer[key] <= 0:
            problems.add(f"optimizer.{key}", optimizer[key], "must be a number above 0, or null")
    if len(clipping) > 1:
        problems.add(f"optimizer.{clipping[1]}", optimizer[clipping[1]],
                     f"cannot be set together with optimizer.{clipping[0]} (Keras takes one "
                     "of clipnorm, clipvalue and global_clipnorm)")
    if _own(optimizer, "weight_decay") and optimizer.weight_decay is not None \
            and (not _is_number(optimizer.weight_decay) or optimizer.weight_decay < 0):
        problems.add("optimizer.weight_decay", optimizer.weight_decay,
                     "must be a number of at least 0, or null")


def _check_callbacks(callbacks: DictConfig, problems: Problems) -> None:
    for name in ("checkpoint", "early_stopping"):
        if name in callbacks:
            _choice(callbacks[name], f"callbacks.{name}", "mode", (None, *MODES), problems)
            if _own(callbacks[name], "monitor") and callbacks[name].monitor == "":
                problems.add(f"callbacks.{name}.monitor", "''", "must name a logged metric")
    if "early_stopping" in callbacks:
        _at_least(callbacks.early_stopping, "callbacks.early_stopping", "patience", 0, problems,
                  " (epochs without improvement before stopping)")
