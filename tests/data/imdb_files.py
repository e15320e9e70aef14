"""Writers of IMDB and GloVe files in their real on-disk formats, for the loaders to read.

- `imdb.npz`: x_train / y_train / x_test / y_test, the x arrays ragged object arrays of Python
  int lists (bare word ranks, 1 = most frequent word), as in the Keras datasets bucket;
  `imdb_word_index.json`: {word: rank}.
- aclImdb: {train,test}/{neg,pos}/<id>_<stars>.txt one review a file, plus train/unsup and the
  loose files (labeledBow.feat, urls_*.txt, imdb.vocab) of the real archive.
- GloVe: one `word v1 ... vd` line per word, space separated.
"""

from __future__ import annotations

import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from tests.conftest import SHARED_DATA

SHARED_IMDB = SHARED_DATA / "imdb-subset" / "imdb.npz"  # ../shared/data from the project root


def ragged(sequences) -> np.ndarray:
    out = np.empty(len(sequences), dtype=object)
    for i, seq in enumerate(sequences):
        out[i] = list(seq)
    return out


def write_imdb_npz(path: Path, x_train, y_train, x_test, y_test) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        x_train=ragged(x_train),
        y_train=np.asarray(y_train, dtype=np.int64),
        x_test=ragged(x_test),
        y_test=np.asarray(y_test, dtype=np.int64),
    )
    return path


def write_word_index(path: Path, words: list[str]) -> Path:
    """imdb_word_index.json where words[0] has rank 1 (the most frequent), words[1] rank 2..."""
    path.write_text(json.dumps({word: rank for rank, word in enumerate(words, start=1)}))
    return path


def sentiment_reviews(n: int, seed: int, vocab: int = 60, length=(20, 60)):
    """n reviews of bare ranks: positive ones use ranks 4-9 often, negative ones 10-15."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 2)
    reviews = []
    for label in labels:
        size = int(rng.integers(*length))
        words = rng.integers(16, vocab, size)
        marks = rng.integers(4, 10, size) if label else rng.integers(10, 16, size)
        reviews.append(np.where(rng.random(size) < 0.3, marks, words).tolist())
    return reviews, labels


def write_sentiment_npz(folder: Path, n_train: int = 48, n_test: int = 16) -> Path:
    x_train, y_train = sentiment_reviews(n_train, seed=1)
    x_test, y_test = sentiment_reviews(n_test, seed=2)
    npz = write_imdb_npz(folder / "imdb.npz", x_train, y_train, x_test, y_test)
    write_word_index(folder / "imdb_word_index.json", [f"w{rank}" for rank in range(1, 80)])
    return npz


def write_review(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def write_aclimdb(
    root: Path, train: dict[str, list[str]], test: dict[str, list[str]], unsup: list[str] = ()
) -> Path:
    """root/aclImdb with train/test neg/pos review files, train/unsup and the loose files."""
    base = root / "aclImdb"
    for split, reviews in (("train", train), ("test", test)):
        for label, texts in reviews.items():
            for i, text in enumerate(texts):
                stars = 8 if label == "pos" else 2
                write_review(base / split / label, f"{i}_{stars}.txt", text)
        (base / split / "labeledBow.feat").write_text("0 0:1\n")
        (base / split / "urls_pos.txt").write_text("http://www.imdb.com/title/tt0000000/usercomments\n")
    for i, text in enumerate(unsup):
        write_review(base / "train" / "unsup", f"{i}_0.txt", text)
    (base / "imdb.vocab").write_text("the\nand\n")
    (base / "README").write_text("Large Movie Review Dataset v1.0\n")
    return base


def toy_reviews(n: int, prefix: str, label: str) -> list[str]:
    """Reviews with a unique marker word each (`<prefix><i>`) and a sentiment word."""
    word = "great" if label == "pos" else "awful"
    return [f"This movie<br /><br />was {word}, {word}! {prefix}{i} the end." for i in range(n)]


def write_toy_aclimdb(root: Path, n: int = 10, n_test: int = 4) -> Path:
    return write_aclimdb(
        root,
        train={label: toy_reviews(n, f"train{label}", label) for label in ("neg", "pos")},
        test={label: toy_reviews(n_test, f"test{label}", label) for label in ("neg", "pos")},
        unsup=["unsupword unsupword great great great"] * 5,
    )


def tar_gz(folder: Path, archive: Path) -> Path:
    """aclImdb_v1.tar.gz: the aclImdb folder at the archive's top level."""
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def write_glove(path: Path, vectors: dict[str, list[float]], as_zip_member: str | None = None) -> Path:
    lines = "".join(f"{word} {' '.join(f'{v:.5f}' for v in vec)}\n" for word, vec in vectors.items())
    if as_zip_member:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(as_zip_member, lines)
    else:
        path.write_text(lines, encoding="utf-8")
    return path
