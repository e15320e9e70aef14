"""Synthetic data of the real shapes, written in the real on-disk formats (labelled synthetic).

Every file goes through the same loader code as a downloaded one. The values only need to be
plausible: the benchmark measures time and memory, which depend on shapes, not on contents.
Files are written once per output folder and reused by later runs.
"""

from __future__ import annotations

import csv
import gzip
import struct
from pathlib import Path

import numpy as np

from seqexp.data.synthetic import synthetic_weather, write_jena_csv

FASHION_FILES = {
    "train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz",
}  # fmt: skip
ARTICLE_COLUMNS = [
    "articleID",
    "articleWordCount",
    "byline",
    "documentType",
    "headline",
    "keywords",
    "multimedia",
    "newDesk",
    "printPage",
    "pubDate",
    "sectionName",
    "snippet",
    "source",
    "typeOfMaterial",
    "webURL",
]


def jena_csv(folder: Path, rows: int) -> Path:
    """jena_climate_2009_2016.csv with `rows` rows of synthetic weather (full size: 420,551)."""
    path = folder / f"jena_{rows}" / "jena_climate_2009_2016.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_jena_csv(path.with_suffix(".part"), synthetic_weather(rows, seed=0)).replace(path)
    return path


def review_lengths(rng, n: int) -> np.ndarray:
    """Review lengths in words shaped like IMDB's (median ~175, mean ~235, a long tail)."""
    return np.clip(rng.lognormal(5.2, 0.6, n).astype(int), 10, 2500)


def imdb_npz(folder: Path, n_train: int, n_test: int) -> Path:
    """imdb.npz in the Keras layout: ragged object arrays of bare word ranks (Zipf-distributed)."""
    path = folder / f"imdb_{n_train}_{n_test}" / "imdb.npz"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)

    def reviews(n):
        out = np.empty(n, dtype=object)
        for i, length in enumerate(review_lengths(rng, n)):
            out[i] = np.minimum(rng.zipf(1.3, length), 88_000).tolist()
        return out, rng.integers(0, 2, n)

    (x_train, y_train), (x_test, y_test) = reviews(n_train), reviews(n_test)
    with open(path.with_suffix(".part"), "wb") as f:
        np.savez(f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    path.with_suffix(".part").replace(path)
    return path


def fashion_folder(folder: Path, n_train: int, n_test: int) -> Path:
    """The four Fashion-MNIST IDX gz files (big-endian header, uint8 28x28 images)."""
    out = folder / f"fashion_{n_train}_{n_test}"
    if (out / FASHION_FILES["test_labels"]).exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28)),
        "train_labels": rng.integers(0, 10, n_train),
        "test_images": rng.integers(0, 256, (n_test, 28, 28)),
        "test_labels": rng.integers(0, 10, n_test),
    }
    for role, array in arrays.items():
        header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
        payload = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
        (out / FASHION_FILES[role]).write_bytes(gzip.compress(payload, compresslevel=1))
    return out


def headlines_csv(folder: Path, n: int) -> Path:
    """ArticlesApril2018.csv with `n` synthetic headlines of 2-24 words (the real month: 1,324
    headlines, vocabulary 3,494, 7,803 prefix samples, longest 24 tokens)."""
    path = folder / f"headlines_{n}" / "ArticlesApril2018.csv"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(3800)]  # ~3,450 of them used: the real vocabulary size
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(ARTICLE_COLUMNS)
        for i in range(n):
            length = 24 if i == 0 else int(rng.integers(2, 13))
            headline = " ".join(words[j] for j in rng.integers(0, len(words), length))
            row = dict.fromkeys(ARTICLE_COLUMNS, "Unknown")
            row.update(articleID=f"5adf{i:020x}", headline=headline.capitalize())
            writer.writerow([row[c] for c in ARTICLE_COLUMNS])
    return path


def aclimdb(folder: Path, per_split: int) -> Path:
    """An extracted aclImdb tree: train/ and test/, each `per_split` reviews (half neg, half pos),
    one review a file as in the real archive (50,000 reviews for per_split=25,000)."""
    root = folder / f"aclImdb_{per_split}"
    if (root / "done").exists():
        return root
    rng = np.random.default_rng(0)
    words = np.array([f"word{i}" for i in range(30_000)])
    for split in ("train", "test"):
        for label, stars in (("neg", 2), ("pos", 8)):
            out = root / split / label
            out.mkdir(parents=True, exist_ok=True)
            for i, length in enumerate(review_lengths(rng, per_split // 2)):
                text = " ".join(words[np.minimum(rng.zipf(1.3, length), 29_999)])
                (out / f"{i}_{stars}.txt").write_text(f"This movie<br /><br />{text}.", encoding="utf-8")
    (root / "done").write_text("")
    return root
