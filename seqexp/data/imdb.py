"""IMDB reviews pre-tokenised by Keras (`imdb.npz`): binary sentiment from word-index sequences.

Same semantics as `keras.datasets.imdb.load_data`: the file's word ranks (1 = most frequent)
are shuffled with `shuffle_seed` (113), a `start_char` is prepended and every rank moves up by
`index_from`; words outside [skip_top, num_words) become `oov_char` (or are dropped when it is
null). Sequences are then padded and truncated to `maxlen` as `keras.utils.pad_sequences` does
(default 'pre': the front is padded and the front is cut, so the end of a review is kept).

Unlike `load_data`, `maxlen` truncates long reviews instead of dropping them (DLwP pads with
`pad_sequences(x, maxlen)` after loading). A file that already carries the start/OOV marks (an
`imdb.npz` saved from `load_data`'s output, e.g. a subset of the reviews) is recognised
(`encoding: auto`) and only filtered, never offset twice.
"""

from __future__ import annotations

import json
import logging
import pickle
import zipfile
import zlib
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from seqexp.atomic import write_text
from seqexp.config.checks import checked
from seqexp.config.types import BatchSize, NonNegativeInt, PadSide, PositiveInt, Seed
from seqexp.data.download import fetch
from seqexp.data.pipeline import batches
from seqexp.data.serving import Options, Serving, input_files, texts
from seqexp.data.spec import DataBundle, DataSpec, provides
from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)

FNAME = "imdb.npz"
WORD_INDEX_FNAME = "imdb_word_index.json"
KEYS = ("x_train", "y_train", "x_test", "y_test")
INPUT_TOKENS_FILE = "input_tokens.json"  # with a word index: the token of every input index


def read_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x_train, y_train, x_test, y_test of an imdb.npz (ragged object arrays of int lists)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise SeqexpError(f"data.path={path} does not exist; give an imdb.npz file (Keras layout).")
    if path.is_dir():
        raise SeqexpError(f"data.path={path} is a folder; give an imdb.npz file (Keras layout).")
    expected = (
        f"expected a NumPy .npz archive holding {list(KEYS)} like the imdb.npz that "
        f"keras.datasets.imdb downloads"
    )
    try:
        loaded = np.load(path, allow_pickle=True)
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        raise SeqexpError(f"{path} is not a readable imdb.npz file ({err}); {expected}.") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise SeqexpError(f"{path} holds a single {type(loaded).__name__}, not an .npz archive; {expected}.")
    with loaded as f:
        missing = [k for k in KEYS if k not in f.files]
        if missing:
            raise SeqexpError(
                f"{path} is not an imdb.npz: it lacks {missing} (its keys are {sorted(f.files)}); {expected}."
            )
        arrays = {}
        for key in KEYS:
            try:
                arrays[key] = f[key]
            except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
                raise SeqexpError(
                    f"{path}: the array {key!r} cannot be read ({err}); the file is damaged. "
                    f"Replace it with an intact copy."
                ) from None
    for split in ("train", "test"):
        check_reviews(path, f"x_{split}", arrays[f"x_{split}"], f"y_{split}", arrays[f"y_{split}"])
    return arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"]


def check_reviews(path: Path, x_key: str, x: np.ndarray, y_key: str, y: np.ndarray) -> None:
    """Every review a list of word indices (ints >= 0), one 0/1 label per review."""
    if x.ndim not in (1, 2) or (x.ndim == 2 and not np.issubdtype(x.dtype, np.integer)):
        raise SeqexpError(
            f"{path}: {x_key} has shape {x.shape} and dtype {x.dtype}; expected one list of word "
            f"indices per review (a 1-D object array of int lists, as in imdb.npz)."
        )
    if len(x) == 0:
        raise SeqexpError(f"{path}: {x_key} holds no review.")
    if all(len(review) == 0 for review in x):  # a model would learn from a constant input
        raise SeqexpError(
            f"{path}: every one of the {len(x):,} reviews of {x_key} is empty (no word index); "
            f"expected lists of word indices such as [1, 14, 22, 16, ...]."
        )
    for i, review in enumerate(x):
        try:
            ids = np.asarray(review)
        except ValueError:  # a ragged nest
            ids = np.asarray([None])
        if ids.size and (ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer)):
            raise SeqexpError(
                f"{path}: {x_key}[{i}] is not a list of integer word indices: it starts "
                f"{repr(review)[:60]}; expected e.g. [1, 14, 22, 16, ...]."
            )
        if ids.size and ids.min() < 0:
            raise SeqexpError(
                f"{path}: {x_key}[{i}] holds the negative word index {int(ids.min())}; indices are 0 or more."
            )
    if y.ndim != 1 or len(y) != len(x):
        raise SeqexpError(
            f"{path}: {x_key} holds {len(x):,} reviews but {y_key} has shape {y.shape}; expected "
            f"one label per review ({len(x):,} labels)."
        )
    bad = np.flatnonzero(~np.isin(y, (0, 1)))
    if len(bad):
        raise SeqexpError(
            f"{path}: {y_key}[{bad[0]}] is {y[bad[0]].item()!r}; IMDB labels are 0 (negative) or 1 "
            f"(positive) ({len(bad):,} other label(s) in {y_key})."
        )


def is_indexed(sequences, start_char: int | None) -> bool:
    """True when every review already begins with the start mark (a saved `load_data` output).

    Raw Keras files hold bare word ranks, where `start_char` (1) is the word "the": real reviews
    do not all begin with it.
    """
    return start_char is not None and all(len(s) and s[0] == start_char for s in sequences)


def encode(
    sequences, num_words=None, skip_top=0, start_char=1, oov_char=2, index_from=3, indexed=False
) -> list[np.ndarray]:
    """Keras `load_data`'s index arithmetic on word-rank sequences; `indexed`: only filter."""
    offset = mark(sequences, start_char, index_from, indexed)
    return keep(offset, num_words or top_id(offset), skip_top, oov_char)


def mark(sequences, start_char=1, index_from=3, indexed=False) -> list[np.ndarray]:
    """Ranks moved up by `index_from`, `start_char` prepended (nothing for `indexed` files)."""
    out = []
    for seq in sequences:
        seq = np.asarray(seq, dtype=np.int64)
        if not indexed:
            if index_from:
                seq = seq + index_from
            if start_char is not None:
                seq = np.concatenate([[start_char], seq])
        out.append(seq)
    return out


def top_id(sequences) -> int:
    """load_data's num_words=None, `max(max(x) for x in xs)`: the highest id of all reviews.

    As in Keras, the filter keeps ids below it, so that highest id itself becomes `oov_char`.
    """
    return int(max((s.max() for s in sequences if len(s)), default=0))


def keep(sequences, num_words: int, skip_top=0, oov_char=2) -> list[np.ndarray]:
    """Ids outside [skip_top, num_words) become `oov_char`, or are dropped when it is None."""
    out = []
    for seq in sequences:
        kept = (seq >= skip_top) & (seq < num_words)
        out.append(np.where(kept, seq, oov_char) if oov_char is not None else seq[kept])
    return out


def pad(sequences, maxlen=None, padding="pre", truncating="pre") -> np.ndarray:
    """`keras.utils.pad_sequences` with 0 as the padding index."""
    import keras

    return keras.utils.pad_sequences(
        sequences, maxlen=maxlen, dtype="int32", padding=padding, truncating=truncating, value=0
    )


def validation_indices(n: int, fraction: float, mode: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices of n training reviews.

    last: the last `fraction`, as Keras `fit(validation_split=...)` takes it (DLwP);
    random: sklearn `train_test_split(test_size=fraction, random_state=seed)` exactly (HG).
    """
    if mode == "last":
        split_at = int(np.floor(n * (1.0 - fraction)))
        return np.arange(split_at), np.arange(split_at, n)
    n_val = int(np.ceil(fraction * n))
    permutation = np.random.RandomState(seed).permutation(n)
    return permutation[n_val:], permutation[:n_val]


def read_word_index(path: Path) -> dict[str, int]:
    try:
        with open(path, encoding="utf-8") as f:
            index = json.load(f)
    except (OSError, ValueError) as err:
        raise SeqexpError(f"data.word_index={path} is not a readable word-index json ({err}).") from None
    if not isinstance(index, dict) or not all(isinstance(v, int) for v in index.values()):
        raise SeqexpError(
            f"data.word_index={path} must map words to integer ranks, like imdb_word_index.json."
        )
    return index


def vocabulary_of(
    word_index: dict[str, int], vocab_size: int, start_char, oov_char, index_from, skip_top
) -> list[str]:
    """Token of every input index: '' for padding, [START], [OOV], then the words."""
    vocabulary = [""] * vocab_size
    for word, rank in word_index.items():
        index = rank + index_from
        if skip_top <= index < vocab_size:
            vocabulary[index] = word
    if start_char is not None and start_char < vocab_size:
        vocabulary[start_char] = "[START]"
    if oov_char is not None and oov_char < vocab_size:
        vocabulary[oov_char] = "[OOV]"
    return vocabulary


def float_labels(y) -> np.ndarray:
    """Sentiment labels as float32, the dtype binary cross-entropy compares against."""
    return np.asarray(y).astype(np.float32)


def _locate_word_index(word_index, path, url, cache_dir, size) -> Path | None:
    """auto: beside a local data.path if present, else downloaded with imdb.npz; null: none."""
    if word_index in (None, False, "none"):
        return None
    if word_index != "auto":
        found = Path(str(word_index)).expanduser()
        if not found.exists():
            raise SeqexpError(f"data.word_index={found} does not exist; give imdb_word_index.json or null.")
        return found
    if path is not None:
        beside = Path(path).expanduser().with_name(WORD_INDEX_FNAME)
        return beside if beside.exists() else None
    return fetch(
        url,
        WORD_INDEX_FNAME,
        size=size,
        cache_dir=cache_dir,
        how_to_provide="set data.word_index=null (it is only needed to decode reviews)",
    )


def num_words_rules(values: dict):
    """num_words must keep a word: above the indices the marks and skip_top take."""
    num_words = values["num_words"]
    floor = max(values["index_from"], values["skip_top"], 1)
    if num_words is not None and num_words <= floor:
        yield (
            "num_words",
            num_words,
            f"keeps no word; it must be above data.index_from and "
            f"data.skip_top (here {floor}), e.g. 10000, or null for every word",
        )


@provides("tokens")
@checked("data", num_words_rules)
def load_imdb(
    *,
    path: str | None,
    url: str,
    sha256: str | None,
    size: PositiveInt | None,
    word_index: str | None,
    word_index_url: str,
    word_index_size: PositiveInt | None,
    cache_dir: str | None,
    encoding: Literal["auto", "ranks", "indexed"],
    num_words: int | None,
    skip_top: NonNegativeInt,
    start_char: NonNegativeInt | None,
    oov_char: NonNegativeInt | None,
    index_from: NonNegativeInt,
    shuffle_seed: Seed | None,
    maxlen: Annotated[int, Field(ge=1, description="tokens per sample")] | None,
    padding: PadSide,
    truncating: PadSide,
    validation_split: Annotated[
        float, Field(gt=0, lt=1, description="the training reviews held out, e.g. 0.2")
    ],
    validation_mode: Literal["last", "random"],
    validation_seed: Seed,
    batch_size: BatchSize,
    seed: Seed,
) -> DataBundle:
    local = path
    if path is None:
        path = fetch(
            url,
            FNAME,
            sha256=sha256,
            size=size,
            cache_dir=cache_dir,
            how_to_provide=f"pass data.path=/path/to/{FNAME}",
        )
    word_index_path = _locate_word_index(word_index, local, word_index_url, cache_dir, word_index_size)
    x_train, y_train, x_test, y_test = read_npz(path)
    log.info("Read %d training and %d test reviews from %s", len(x_train), len(x_test), path)

    if shuffle_seed is not None:  # load_data's shuffle: one generator, train then test
        rng = np.random.RandomState(shuffle_seed)
        order = np.arange(len(x_train))
        rng.shuffle(order)
        x_train, y_train = x_train[order], y_train[order]
        order = np.arange(len(x_test))
        rng.shuffle(order)
        x_test, y_test = x_test[order], y_test[order]

    indexed = encoding == "indexed" or (encoding == "auto" and is_indexed(x_train, start_char))
    if encoding == "auto":
        log.info(
            "%s holds %s",
            path,
            "start-marked, already offset sequences (encoded as by load_data): only filtering to num_words"
            if indexed
            else "bare word ranks",
        )
    marked = mark([*x_train, *x_test], start_char, index_from, indexed)
    vocab_size = num_words or top_id(marked)  # every id left is below it
    sequences = keep(marked, vocab_size, skip_top, oov_char)
    lengths = np.array([len(s) for s in sequences])
    longest = int(lengths.max(initial=1))
    x_all = pad(sequences, maxlen=maxlen or longest, padding=padding, truncating=truncating)
    x_train, x_test = x_all[: len(x_train)], x_all[len(x_train) :]
    y_train, y_test = np.asarray(y_train, dtype=np.int64), np.asarray(y_test, dtype=np.int64)

    train_idx, val_idx = validation_indices(len(x_train), validation_split, validation_mode, validation_seed)
    if len(train_idx) == 0 or len(val_idx) == 0:
        raise SeqexpError(
            f"data.validation_split={validation_split} leaves an empty split of {len(x_train)} reviews."
        )

    vocabulary = None
    if word_index_path is not None:
        vocabulary = vocabulary_of(
            read_word_index(word_index_path), vocab_size, start_char, oov_char, index_from, skip_top
        )
    counts = {"train": len(train_idx), "val": len(val_idx), "test": len(x_test)}
    spec = DataSpec(
        task="binary",
        input_kind="tokens",
        input_shape=(x_all.shape[1],),
        num_classes=2,
        vocab_size=vocab_size,
        class_names=["negative", "positive"],
        vocabulary=vocabulary,
        info={
            "reviews": counts,
            "vocab_size": vocab_size,
            "sequence_length": int(x_all.shape[1]),
            "encoding": "indexed" if indexed else "ranks",
            "mean_review_length": float(lengths.mean()) if len(lengths) else 0.0,
            "truncated_fraction": float((lengths > x_all.shape[1]).mean()) if len(lengths) else 0.0,
            "positive_fraction": {
                "train": float(y_train[train_idx].mean()),
                "val": float(y_train[val_idx].mean()),
                "test": float(y_test.mean()),
            },
            "word_index": str(word_index_path) if word_index_path else None,
        },
        # `seqexp predict` encodes new rank lists (or text, with a word index) the same way.
        serving=ImdbServing(
            num_words=vocab_size,
            skip_top=skip_top,
            start_char=start_char,
            oov_char=oov_char,
            index_from=index_from,
            maxlen=int(x_all.shape[1]),
            padding=padding,
            truncating=truncating,
            input_tokens=INPUT_TOKENS_FILE if vocabulary is not None else None,
        ),
    )
    log.info(
        "IMDB reviews %s, vocabulary %d, sequences of %d tokens (%s-padded, %.0f%% truncated)",
        counts,
        vocab_size,
        x_all.shape[1],
        padding,
        100 * spec.info["truncated_fraction"],
    )
    return DataBundle(
        batches((x_train[train_idx], float_labels(y_train[train_idx])), batch_size, shuffle=True, seed=seed),
        batches((x_train[val_idx], float_labels(y_train[val_idx])), batch_size),
        batches((x_test, float_labels(y_test)), batch_size),
        spec,
    )


# --- serving: a trained model on new reviews ----------------------------------------------------


def rank_lists(path: Path) -> list[list[int]]:
    """A JSON list of word-rank lists ([[14, 22, 16], [1, 5]]): bare ranks, 1 = most frequent."""
    expected = "a JSON list of word-rank lists, e.g. [[14, 22, 16, 43], [530, 973]]"
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise SeqexpError(f"input={path} is not JSON ({err}); expected {expected}.") from None
    ok = (
        isinstance(loaded, list)
        and loaded
        and all(
            isinstance(seq, list)
            and all(isinstance(r, int) and not isinstance(r, bool) and r >= 1 for r in seq)
            for seq in loaded
        )
    )
    if not ok:
        raise SeqexpError(f"input={path} does not hold {expected} (ranks are whole numbers >= 1).")
    return loaded


class ImdbServing(Serving):
    """Keras' index arithmetic and the padding rule: new reviews are .json word-rank lists, or
    text when training found a word index (input_tokens.json, the token of every input index)."""

    num_words: int
    skip_top: int
    start_char: int | None
    oov_char: int | None
    index_from: int
    maxlen: int
    padding: str
    truncating: str
    input_tokens: str | None = None  # a file of the run directory

    caller_files = (INPUT_TOKENS_FILE,)

    def save_files(self, bundle, run_dir: Path) -> None:
        if self.input_tokens is not None:
            tokens = json.dumps(bundle.spec.vocabulary, ensure_ascii=False)
            write_text(run_dir / self.input_tokens, tokens + "\n")

    def read(self, inputs, options: Options, run_dir: Path) -> tuple[list[str], np.ndarray]:
        """(names, padded ids): .json rank lists, or text through the run's word index."""
        from seqexp.readback import json_list

        paths = input_files(inputs, (".json", ".txt"), "a .json list of word-rank lists or text")
        tokens = None
        if self.input_tokens is not None:
            tokens = json_list(run_dir / self.input_tokens, fix="It is written with the run; train it again.")
        names, sequences, indexed = [], [], []
        for path in paths:
            if path.suffix.lower() == ".json":
                for i, ranks in enumerate(rank_lists(path)):
                    names.append(f"{path.name}[{i}]")
                    sequences.append(ranks)
                    indexed.append(False)
                continue
            if tokens is None:
                raise SeqexpError(
                    f"input={path} is text, but the run has no word index (it was trained "
                    f"with data.word_index=null); give a .json list of word-rank lists."
                )
            index = {token: i for i, token in enumerate(tokens) if token and not token.startswith("[")}
            file_names, reviews = texts([path], options.lines, "review text")
            for name, review in zip(file_names, reviews, strict=True):
                names.append(name)  # Keras' imdb words: lowercase, punctuation removed
                words = "".join(c if c.isalnum() or c.isspace() or c == "'" else " " for c in review.lower())
                ids = [index.get(w, self.oov_char) for w in words.split()]
                sequences.append(([self.start_char] if self.start_char is not None else []) + ids)
                indexed.append(True)
        encoded = []
        for seq, done in zip(sequences, indexed, strict=True):
            encoded += encode(
                [seq],
                self.num_words,
                self.skip_top,
                self.start_char,
                self.oov_char,
                self.index_from,
                indexed=done,
            )
        return names, pad(encoded, maxlen=self.maxlen, padding=self.padding, truncating=self.truncating)

    def describe(self, text: bool) -> dict:
        return {
            "input": f"token ids, {self.maxlen} per review, padded with 0 ({self.padding}) and "
            f"truncated ({self.truncating})",
            "outside": f"ids: word rank + {self.index_from}, start mark {self.start_char} first, "
            f"ranks outside [{self.skip_top}, {self.num_words}) become {self.oov_char}",
            "inside": ["the model"],
            "output": {
                "class_names": self.class_names,
                "meaning": f"probability of {self.class_names[1]!r}",
            },
        }
