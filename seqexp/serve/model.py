"""A run's model with its preprocessing in front: the one model `seqexp predict` runs and
`seqexp export` writes, so both give the same outputs on the same inputs.

- jena: raw measurements (timesteps, features) -> (x - mean) / std of the training rows -> the
  trained model -> x * std + mean of the target: a forecast in the target's unit (e.g. degC).
- fashion-mnist: grey pixels 0..255 (28, 28, 1) -> / 255 -> the model -> class probabilities.
- imdb-raw: review strings -> the run's TextVectorization and pad_sequences rule -> the model ->
  the positive-review probability (`text=False`: the token ids go in, for formats without strings).
- imdb, headlines: token ids as in training -> the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqexp.errors import SeqexpError
from seqexp.run.record import run_checkpoint
from seqexp.serve import preprocessing
from seqexp.text.vocabulary import VOCABULARY_FILE, load_vocabulary

CHECKPOINT = None  # the run's own, as its record says (seqexp.run.record.run_checkpoint)


@dataclass
class Run:
    path: Path
    prep: dict  # preprocessing.json
    model: object  # the trained keras model, as checkpointed

    @property
    def kind(self) -> str:
        return self.prep["kind"]


def check_run_dir(run) -> Path:
    run = Path(str(run)).expanduser()
    if not run.is_dir():
        raise SeqexpError(
            f"run={run} is not a directory; give the run directory of a `seqexp train` "
            f"run (e.g. outputs/<date>/<time>_jena_gru)."
        )
    return run


def load_run(run, checkpoint: str | None = CHECKPOINT) -> Run:
    """preprocessing.json and the checkpoint of a run directory, or a SeqexpError saying why not."""
    run = check_run_dir(run)
    vocabulary = run / VOCABULARY_FILE
    if not (run / preprocessing.FILE).exists() and vocabulary.exists():  # a next-word run
        saved = load_vocabulary(vocabulary)
        prep = {
            "kind": "headlines",
            "task": "next_token",
            "input_kind": "tokens",
            "input_shape": [saved["input_length"]],
            "preprocessing": saved.get("preprocessing"),
        }
    else:
        prep = preprocessing.load(run)
    ckpt = run / (checkpoint or run_checkpoint(run))
    if not ckpt.exists():
        raise SeqexpError(
            f"run={run} has no checkpoint at {ckpt}: the model has no trainable weights (the naive "
            f"baseline needs no model: it repeats the last value), or the run was trained with "
            f"callbacks.checkpoint.enabled=false. Train with checkpoints on, or point "
            f"checkpoint=<path inside the run> at another .keras file."
        )
    import keras  # only now: the checks above answer without loading TensorFlow

    try:
        model = keras.models.load_model(ckpt, compile=False, safe_mode=True)
    except Exception as err:  # a truncated or foreign file: say which one
        raise SeqexpError(f"Could not load the checkpoint {ckpt}: {type(err).__name__}: {err}") from None
    return Run(run, prep, model)


def jena_stats(prep: dict) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(feature means, feature stds, target mean, target std) of the training rows."""
    columns = prep["columns"]
    mean, std = np.asarray(prep["mean"], np.float64), np.asarray(prep["std"], np.float64)
    features = [columns.index(name) for name in prep["features"]]
    target = columns.index(prep["target"])
    return mean[features], std[features], float(mean[target]), float(std[target])


def read_vocabulary(run: Path, prep: dict) -> list[str]:
    """imdb-raw's vocabulary.txt: line i is token id i - 1 ("" for padding, then "[UNK]")."""
    path = run / prep["vocabulary_file"]
    if not path.exists():
        raise SeqexpError(f"run={run} lacks {path.name}, written with preprocessing.json; train again.")
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def pad_sequences_layer(maxlen: int, padding: str, truncating: str):
    """A layer doing `keras.utils.pad_sequences` (value 0) on ragged token ids, inside the graph."""
    import keras
    import tensorflow as tf

    class PadSequences(keras.layers.Layer):
        def call(self, ids):
            ids = ids[:, -maxlen:] if truncating == "pre" else ids[:, :maxlen]
            if padding == "pre":  # pad the front: reverse, pad the end, reverse back
                return tf.reverse(ids[:, ::-1].to_tensor(0, shape=[None, maxlen]), [1])
            return ids.to_tensor(0, shape=[None, maxlen])

        def compute_output_spec(self, ids):  # symbolic inputs are not ragged: say the result
            return keras.KerasTensor((ids.shape[0], maxlen), dtype=ids.dtype)

    return PadSequences(name="pad_sequences")


def serving_model(run: Run, text: bool = True):
    """The trained model with the run's preprocessing in front (and the target's unit behind)."""
    import keras

    prep, model = run.prep, run.model
    shape = tuple(prep["input_shape"])
    if run.kind == "jena":
        mean, std, target_mean, target_std = jena_stats(prep)
        # Rescaling, not Normalization: its constants are part of the graph, which tf2onnx needs
        # (Normalization's mean/variance tensors become extra ONNX inputs).
        inputs = keras.Input(shape, dtype="float32", name="window")
        x = keras.layers.Rescaling(1.0, offset=list(-mean), name="minus_mean")(inputs)
        x = keras.layers.Rescaling(list(1.0 / std), name="over_std")(x)
        if prep["reverse"]:  # trained on newest-first windows; the input is oldest first
            x = keras.layers.Lambda(lambda t: keras.ops.flip(t, axis=1), name="newest_first")(x)
        x = keras.layers.Rescaling(target_std, offset=target_mean, name="to_target_unit")(model(x))
        return keras.Model(inputs, x, name="forecast")
    if run.kind == "fashion_mnist":
        inputs = keras.Input(shape, dtype="float32", name="pixels")
        x = keras.layers.Rescaling(1.0 / prep["scale"], name="to_unit_range")(inputs)
        return keras.Model(inputs, model(x), name="classifier")
    if run.kind == "imdb_raw" and text:
        vectorizer = keras.layers.TextVectorization(
            vocabulary=read_vocabulary(run.path, prep),
            standardize=prep["standardize"],
            ragged=True,
            name="text_vectorization",
        )
        inputs = keras.Input((), dtype="string", name="review")
        ids = pad_sequences_layer(prep["maxlen"], prep["padding"], prep["truncating"])(vectorizer(inputs))
        return keras.Model(inputs, model(ids), name="sentiment")
    inputs = keras.Input(shape, dtype="int32", name="token_ids")
    return keras.Model(inputs, model(inputs), name=model.name)
