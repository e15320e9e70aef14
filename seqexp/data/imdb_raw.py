"""IMDB raw review text (aclImdb): DLwP 6.1's tokenise-it-yourself protocol, binary sentiment.

Reviews are read from `aclImdb/{train,test}/{neg,pos}/*.txt` with
`keras.utils.text_dataset_from_directory` (neg 0, pos 1; `train/unsup` is never read). The
training reviews are shuffled with `seed` and cut into `training_samples` (200) and
`validation_samples` (10,000); a `TextVectorization` vocabulary of `max_tokens` is fitted on the
training texts only, and every review becomes its token ids padded / truncated to `maxlen` with
`pad_sequences` semantics (DLwP: 'pre', keeping a review's end). The vocabulary is written to
the run directory (vocabulary.txt, line i = token id i - 1) so the ids can be read back.
"""

from __future__ import annotations

import logging
import os
import shutil
import tarfile
import zlib
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from seqexp.atomic import write_text
from seqexp.config.checks import checked
from seqexp.config.types import BatchSize, PadSide, PositiveInt, Seed
from seqexp.data.download import cache_root, fetch
from seqexp.data.imdb import float_labels, pad
from seqexp.data.pipeline import batches
from seqexp.data.serving import Options, Serving, texts
from seqexp.data.spec import DataBundle, DataSpec, Report, provides
from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)

FNAME = "aclImdb_v1.tar.gz"
CLASS_NAMES = ["neg", "pos"]  # label 0, label 1
VOCABULARY_FILE = "vocabulary.txt"


def extracted(archive: Path, cache_dir=None) -> Path:
    """The aclImdb folder extracted from `archive` into the cache, once and never half-written."""
    root = cache_root(cache_dir)
    target = root / "aclImdb"
    if target.is_dir():
        return target
    staging = root / f"aclImdb.extracting-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    log.info("Extracting %s into %s (train/unsup left out)", archive, target)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar if "/train/unsup/" not in m.name + "/"]
            tar.extractall(staging, members=members, filter="data")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise SeqexpError(
            f"{archive} is not a readable aclImdb_v1.tar.gz ({err}); delete it so it is "
            f"downloaded again, or pass data.path=/path/to/aclImdb (the extracted folder)."
        ) from None
    if not (staging / "aclImdb").is_dir():
        found = sorted(p.name for p in staging.iterdir())[:5]
        shutil.rmtree(staging, ignore_errors=True)
        raise SeqexpError(
            f"{archive} has no aclImdb/ folder at its top (it holds {found}); it is not aclImdb_v1.tar.gz."
        )
    os.replace(staging / "aclImdb", target)
    shutil.rmtree(staging, ignore_errors=True)
    return target


def read_reviews(folder: Path, need_both: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(texts, labels) of `folder`/neg and /pos in file-name order; other folders ignored.

    `need_both`: each of neg/ and pos/ must hold a review (training); else one review in all.
    """
    import keras

    layout = (
        "data.path must be an extracted aclImdb directory holding train/ and test/, each "
        "with neg/ and pos/ review files (<id>_<stars>.txt)"
    )
    missing = [name for name in CLASS_NAMES if not (folder / name).is_dir()]
    if missing:
        raise SeqexpError(f"{folder} has no {' or '.join(missing)} folder; {layout}.")
    ds = keras.utils.text_dataset_from_directory(
        folder, class_names=CLASS_NAMES, batch_size=1024, shuffle=False, verbose=False
    )
    texts, labels = [], []
    for text, label in ds.as_numpy_iterator():
        texts.append(text)
        labels.append(label)
    counts = np.bincount(np.concatenate(labels), minlength=2) if labels else np.zeros(2, int)
    empty = [name for name, count in zip(CLASS_NAMES, counts, strict=True) if count == 0]
    if len(empty) == 2 or (need_both and empty):
        raise SeqexpError(
            f"{' and '.join(str(folder / name) for name in empty)} "
            f"{'hold' if len(empty) == 2 else 'holds'} no .txt review file; {layout}."
        )
    texts = np.concatenate(texts)
    check_utf8(folder, texts)
    # A review saved with a byte-order mark (Windows Notepad) reads as the same words without it.
    texts = np.array([text.removeprefix(BOM) for text in texts], dtype=texts.dtype)
    if not any(text.strip() for text in texts):  # a model would learn from a constant input
        raise SeqexpError(
            f"Every one of the {len(texts):,} review files in {folder}/neg and {folder}/pos is empty "
            f"(or only whitespace); each .txt file holds one review's text."
        )
    return texts, np.concatenate(labels).astype(np.int64)


BOM = b"\xef\xbb\xbf"


def check_utf8(folder: Path, texts: np.ndarray) -> None:
    """Every review must be UTF-8 text (TextVectorization cannot read other bytes); name the file."""
    try:
        for text in texts:
            text.decode("utf-8")
    except UnicodeDecodeError:
        for name in CLASS_NAMES:
            for file in sorted((folder / name).rglob("*.txt")):
                try:
                    file.read_bytes().decode("utf-8")
                except UnicodeDecodeError as err:
                    raise SeqexpError(
                        f"{file} is not UTF-8 text (byte {err.start}: {err.reason}); every review "
                        f"file of aclImdb is UTF-8. Re-save it as UTF-8 or remove it."
                    ) from None
        raise


def vectorize(vectorizer, texts: np.ndarray, maxlen, padding, truncating) -> np.ndarray:
    """Token ids of every text, padded/truncated to `maxlen` (batch by batch: bounded memory)."""
    sequences = []
    for start in range(0, len(texts), 2048):
        ragged = vectorizer(texts[start : start + 2048])
        splits = ragged.row_splits.numpy()
        sequences += np.split(ragged.flat_values.numpy(), splits[1:-1])
    return pad(sequences, maxlen=maxlen, padding=padding, truncating=truncating)


def save_vocabulary(model, bundle, run_dir) -> dict:
    """Write the vocabulary into the run directory: one token a line, line i holds id i - 1."""
    vocabulary = bundle.spec.vocabulary
    write_text(Path(run_dir) / VOCABULARY_FILE, "\n".join(vocabulary) + "\n")
    return {"file": VOCABULARY_FILE, "size": len(vocabulary)}


@provides("tokens")
@checked("data")
def load_imdb_raw(
    *,
    path: str | None,
    url: str,
    sha256: str | None,
    size: PositiveInt | None,
    cache_dir: str | None,
    max_tokens: Annotated[int, Field(ge=3, description="the vocabulary, padding and [UNK] included")],
    maxlen: Annotated[int, Field(ge=1, description="tokens per review")],
    padding: PadSide,
    truncating: PadSide,
    standardize: str | None,
    training_samples: PositiveInt,
    validation_samples: PositiveInt | None,
    test_samples: PositiveInt | None,
    # training_split: the training samples only; train_folder: every review of train/ (DLwP's Tokenizer)
    vocabulary_from: Literal["training_split", "train_folder"],
    batch_size: BatchSize,
    seed: Seed,
) -> DataBundle:
    import keras

    if keras.backend.backend() != "tensorflow":  # TextVectorization runs TF ops whatever the backend
        raise SeqexpError(
            f"data=imdb_raw vectorises the reviews with Keras' TextVectorization, which needs "
            f"TensorFlow; this run has trainer.backend={keras.backend.backend()}. Use "
            f"trainer.backend=tensorflow, or data=imdb (the same reviews, already as word ranks)."
        )
    if path is None:
        archive = fetch(
            url,
            FNAME,
            sha256=sha256,
            size=size,
            cache_dir=cache_dir,
            how_to_provide="pass data.path=/path/to/aclImdb (the extracted folder)",
        )
        root = extracted(archive, cache_dir)
    else:
        root = Path(path).expanduser()
        if not root.is_dir():
            raise SeqexpError(f"data.path={root} is not a folder; give the extracted aclImdb directory.")
    texts, labels = read_reviews(root / "train")
    test_texts, test_labels = read_reviews(root / "test", need_both=False)

    wanted = training_samples + (validation_samples or 0)
    if validation_samples is not None and wanted > len(texts) or training_samples >= len(texts):
        raise SeqexpError(
            f"data.training_samples={training_samples} + data.validation_samples="
            f"{validation_samples} need more than the {len(texts)} training reviews "
            f"in {root / 'train'}; lower them "
            f"(validation_samples=null takes every review left)."
        )
    order = np.random.RandomState(seed).permutation(len(texts))
    train_idx = order[:training_samples]
    val_idx = order[training_samples : wanted if validation_samples is not None else None]
    if test_samples is not None:
        test_texts, test_labels = test_texts[:test_samples], test_labels[:test_samples]

    vectorizer = keras.layers.TextVectorization(
        max_tokens=max_tokens, standardize=standardize, output_mode="int", ragged=True
    )
    vectorizer.adapt(texts[train_idx] if vocabulary_from == "training_split" else texts, batch_size=1024)
    vocabulary = vectorizer.get_vocabulary()

    x = {
        name: vectorize(vectorizer, t, maxlen, padding, truncating)
        for name, t in (("train", texts[train_idx]), ("val", texts[val_idx]), ("test", test_texts))
    }
    y = {"train": labels[train_idx], "val": labels[val_idx], "test": test_labels}
    counts = {name: len(v) for name, v in y.items()}
    spec = DataSpec(
        task="binary",
        input_kind="tokens",
        input_shape=(maxlen,),
        num_classes=2,
        vocab_size=len(vocabulary),
        class_names=CLASS_NAMES,
        vocabulary=vocabulary,
        info={
            "reviews": counts,
            "vocab_size": len(vocabulary),
            "vocabulary_from": vocabulary_from,
            "sequence_length": maxlen,
            "positive_fraction": {name: float(v.mean()) if len(v) else 0.0 for name, v in y.items()},
        },
        reports=[
            Report("seqexp.data.imdb_raw.save_vocabulary"),
        ],
        serving=ImdbRawServing(
            vocabulary_file=VOCABULARY_FILE,
            maxlen=maxlen,
            padding=padding,
            truncating=truncating,
            standardize=standardize,
        ),
    )
    log.info(
        "IMDB raw reviews %s from %s; vocabulary of %d tokens fitted on the %s; %d tokens a review",
        counts,
        root,
        len(vocabulary),
        vocabulary_from.replace("_", " "),
        maxlen,
    )
    if not counts["val"]:
        raise SeqexpError("The validation split is empty: raise data.validation_samples or use null.")
    return DataBundle(
        batches((x["train"], float_labels(y["train"])), batch_size, shuffle=True, seed=seed),
        batches((x["val"], float_labels(y["val"])), batch_size),
        batches((x["test"], float_labels(y["test"])), batch_size),
        spec,
    )


# --- serving: a trained model on new review texts ------------------------------------------------


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


class ImdbRawServing(Serving):
    """The run's vocabulary (vocabulary.txt) and padding rule: new reviews are text files (or
    their lines), vectorised and padded inside the model as training did outside it."""

    vocabulary_file: str  # in the run directory: line i is token id i - 1
    maxlen: int
    padding: str
    truncating: str
    standardize: str | None

    caller_files = (VOCABULARY_FILE,)

    def read(self, inputs, options: Options, run_dir: Path) -> tuple[list[str], np.ndarray]:
        names, reviews = texts(inputs, options.lines, "review text")
        return names, np.array(reviews, dtype=object)

    def vocabulary(self, run_dir: Path) -> list[str]:
        path = run_dir / self.vocabulary_file
        if not path.exists():
            raise SeqexpError(f"run={run_dir} lacks {path.name}, written with the run; train again.")
        return path.read_text(encoding="utf-8").split("\n")[:-1]

    def input_dtype(self, text: bool) -> str:
        return "string" if text else "int32"

    def serving_model(self, model, run_dir: Path, text: bool = True):
        """Review strings -> the run's TextVectorization and pad_sequences rule -> the model
        (`text=False`: the token ids go in, for formats without strings)."""
        import keras

        if not text:
            return super().serving_model(model, run_dir, text)
        vectorizer = keras.layers.TextVectorization(
            vocabulary=self.vocabulary(run_dir),
            standardize=self.standardize,
            ragged=True,
            name="text_vectorization",
        )
        inputs = keras.Input((), dtype="string", name="review")
        ids = pad_sequences_layer(self.maxlen, self.padding, self.truncating)(vectorizer(inputs))
        return keras.Model(inputs, model(ids), name="sentiment")

    def describe(self, text: bool) -> dict:
        output = {"class_names": self.class_names, "meaning": f"probability of {self.class_names[1]!r}"}
        if text:
            return {
                "input": "review texts",
                "inside": [
                    f"TextVectorization (standardize={self.standardize})",
                    f"pad_sequences(maxlen={self.maxlen}, padding={self.padding}, "
                    f"truncating={self.truncating})",
                    "the model",
                ],
                "output": output,
            }
        return {
            "input": f"token ids, {self.maxlen} per review, padded with 0 ({self.padding}) and "
            f"truncated ({self.truncating})",
            "outside": f"ids: line i of {self.vocabulary_file} is token i - 1, text standardized "
            f"as {self.standardize}",
            "inside": ["the model"],
            "output": output,
        }
