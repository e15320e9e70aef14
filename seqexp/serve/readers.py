"""New inputs for `seqexp predict`, read the way the run's training data was read.

Every reader returns (names, inputs): one name per sample (a file, `file:line`, a window's last
timestamp) and the model inputs in the form the serving model takes (seqexp.serve.model).
A file of the wrong kind is a SeqexpError naming it and what was expected.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from seqexp.errors import SeqexpError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
JENA_TIME_FORMAT = "%d.%m.%Y %H:%M:%S"


def input_paths(inputs: Sequence[str], suffixes: tuple[str, ...], what: str) -> list[Path]:
    """The files named by `input` (a file or a folder; a folder gives its files with `suffixes`)."""
    paths = []
    for given in inputs:
        path = Path(str(given)).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes)
            if not found:
                raise SeqexpError(
                    f"input={path} is a folder without {'/'.join(suffixes)} files; expected {what}."
                )
            paths += found
        elif path.is_file():
            paths.append(path)
        else:
            raise SeqexpError(f"input={path} does not exist; expected {what}.")
    return paths


# --- jena ----------------------------------------------------------------------------------------


def jena_windows(path: Path, prep: dict, batch: int = 1024) -> tuple[int, Iterator]:
    """(window count, batches of (last-row times, windows)): one window ending at every row from
    the first that has `lookback` rows before it; windows are raw values, oldest row first."""
    from seqexp.data.jena import read_jena

    columns, values = read_jena(path)
    missing = [name for name in prep["features"] if name not in columns]
    if missing:
        raise SeqexpError(
            f"input={path} lacks the column(s) {missing} the model was trained on; "
            f"expected a Jena climate CSV with {prep['features']}."
        )
    # the serving model's input dtype (read_jena keeps float64 for the training statistics)
    values = values[:, [columns.index(name) for name in prep["features"]]].astype(np.float32)
    timesteps, step = prep["input_shape"][0], prep["step"]
    span = (timesteps - 1) * step + 1  # rows one window reads, first to last
    if len(values) < span:
        raise SeqexpError(
            f"input={path} holds {len(values)} rows; a window of the run (lookback "
            f"{prep['lookback']}, step {step}) needs at least {span} consecutive rows."
        )
    times = jena_times(path, len(values))
    ends = np.arange(span - 1, len(values))
    offsets = np.arange(-(timesteps - 1) * step, 1, step)

    def batches():
        for start in range(0, len(ends), batch):
            chunk = ends[start : start + batch]
            yield [times[e] for e in chunk], values[chunk[:, None] + offsets[None, :]]

    return len(ends), batches()


def jena_times(path: Path, rows: int) -> list[dt.datetime]:
    """The `Date Time` of every row (read_jena has checked the file's layout and numbers)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        stamps = [row[0] for row in reader if row]
    try:
        return [dt.datetime.strptime(stamp, JENA_TIME_FORMAT) for stamp in stamps[:rows]]
    except ValueError as err:
        raise SeqexpError(
            f"input={path}: a Date Time is not day.month.year hour:minute:second "
            f"like 01.01.2009 00:10:00 ({err})."
        ) from None


# --- text ----------------------------------------------------------------------------------------


def texts(inputs: Sequence[str], lines: bool) -> tuple[list[str], list[str]]:
    """(names, reviews): each file one review, or (`lines`) each non-empty line one review."""
    names, reviews = [], []
    for path in input_paths(inputs, (".txt",), "a UTF-8 text file of reviews"):
        try:
            content = path.read_text(encoding="utf-8-sig")  # a byte-order mark is not review text
        except UnicodeDecodeError as err:
            raise SeqexpError(
                f"input={path} is not UTF-8 text (byte {err.start}: {err.reason}); expected review text."
            ) from None
        if lines:
            for number, line in enumerate(content.splitlines(), start=1):
                if line.strip():
                    names.append(f"{path.name}:{number}")
                    reviews.append(line)
        else:
            names.append(path.name)
            reviews.append(content)
    if not reviews:
        raise SeqexpError(f"input={list(map(str, inputs))} holds no review text.")
    return names, reviews


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


def imdb_ids(inputs: Sequence[str], prep: dict, input_tokens: list[str] | None, lines: bool):
    """(names, padded ids) of imdb inputs: .json rank lists, or text when a word index is saved."""
    from seqexp.data.imdb import encode, pad

    paths = input_paths(inputs, (".json", ".txt"), "a .json list of word-rank lists or text")
    names, sequences, indexed = [], [], []
    for path in paths:
        if path.suffix.lower() == ".json":
            for i, ranks in enumerate(rank_lists(path)):
                names.append(f"{path.name}[{i}]")
                sequences.append(ranks)
                indexed.append(False)
            continue
        if input_tokens is None:
            raise SeqexpError(
                f"input={path} is text, but the run has no word index (it was trained "
                f"with data.word_index=null); give a .json list of word-rank lists."
            )
        index = {token: i for i, token in enumerate(input_tokens) if token and not token.startswith("[")}
        file_names, reviews = texts([str(path)], lines)
        for name, review in zip(file_names, reviews, strict=True):
            names.append(name)  # Keras' imdb words: lowercase, punctuation removed
            words = "".join(c if c.isalnum() or c.isspace() or c == "'" else " " for c in review.lower())
            ids = [index.get(w, prep["oov_char"]) for w in words.split()]
            sequences.append(([prep["start_char"]] if prep["start_char"] is not None else []) + ids)
            indexed.append(True)
    encoded = []
    for seq, done in zip(sequences, indexed, strict=True):
        encoded += encode(
            [seq],
            prep["num_words"],
            prep["skip_top"],
            prep["start_char"],
            prep["oov_char"],
            prep["index_from"],
            indexed=done,
        )
    return names, pad(encoded, maxlen=prep["maxlen"], padding=prep["padding"], truncating=prep["truncating"])


# --- images --------------------------------------------------------------------------------------


def images(inputs: Sequence[str], shape: Sequence[int]) -> tuple[list[str], np.ndarray]:
    """(names, float32 pixels 0..255 of shape (n, h, w, 1)) from PNG/JPEG files or IDX image files.

    A PNG/JPEG of any size becomes grey ("L") and is resized to the training images' h x w.
    """
    from PIL import Image, UnidentifiedImageError

    from seqexp.data.fashion_mnist import GZIP_MAGIC, IMAGE_MAGIC, read_idx

    height, width = shape[0], shape[1]
    expected = f"PNG/JPEG images or an IDX image file ({height}x{width}, like t10k-images-idx3-ubyte)"
    names, pixels = [], []
    for path in input_paths(inputs, (*IMAGE_SUFFIXES, ".gz", ".idx3-ubyte"), expected):
        head = path.read_bytes()[:4]
        if head[:2] == GZIP_MAGIC or int.from_bytes(head, "big") == IMAGE_MAGIC:
            array = read_idx(path, ndim=3)
            if array.shape[1:] != (height, width):
                raise SeqexpError(
                    f"input={path} holds {array.shape[1]}x{array.shape[2]} images; "
                    f"the model takes {height}x{width}."
                )
            names += [f"{path.name}[{i}]" for i in range(len(array))]
            pixels.append(array.astype(np.float32))
            continue
        try:
            with Image.open(path) as image:
                grey = image.convert("L").resize((width, height), Image.Resampling.BILINEAR)
        except (UnidentifiedImageError, OSError) as err:
            raise SeqexpError(f"input={path} is not an image ({err}); expected {expected}.") from None
        names.append(path.name)
        pixels.append(np.asarray(grey, dtype=np.float32)[None])
    return names, np.concatenate(pixels)[..., None]
