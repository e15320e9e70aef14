"""Pretrained GloVe vectors as the starting weights of a token Embedding (DLwP 6.1.3).

`model.embedding.pretrained` is a GloVe text file (one word and its floats a line), a zip that
holds one, or a name like `glove.6B.100d`: glove.6B.zip is then downloaded once into the cache
and the member `glove.6B.100d.txt` is read from it without extracting 822 MB. Rows follow the
data's vocabulary: row i is the vector of token i, zero for tokens GloVe does not know (and for
padding / OOV marks).
"""

from __future__ import annotations

import logging
import re
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from seqexp.data.download import fetch
from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)

GLOVE_6B_URL = "https://downloads.cs.stanford.edu/nlp/data/glove.6B.zip"
GLOVE_6B_ZIP = "glove.6B.zip"
GLOVE_6B_SHA256 = "617afb2fe6cbd085c235baf7a465b96f4112bd7f7ccb2b2cbd649fed9cbcf2fb"
GLOVE_6B_SIZE = 862182613
GLOVE_6B_NAME = re.compile(r"^glove\.6B\.(50|100|200|300)d$")
SPECIAL_TOKENS = ("", "[UNK]", "[START]", "[OOV]")


def glove_lines(pretrained: str, cache_dir: str | None = None) -> tuple[Iterable[bytes], str]:
    """The lines (bytes) of the GloVe source `pretrained` and a name for it in messages."""
    if GLOVE_6B_NAME.match(pretrained) and not Path(pretrained).exists():
        archive = fetch(
            GLOVE_6B_URL,
            GLOVE_6B_ZIP,
            sha256=GLOVE_6B_SHA256,
            size=GLOVE_6B_SIZE,
            cache_dir=cache_dir,
            how_to_provide="give model.embedding.pretrained=/path/to/glove.6B.100d.txt",
        )
        return _zip_lines(archive, f"{pretrained}.txt"), f"{archive}:{pretrained}.txt"
    path = Path(pretrained).expanduser()
    if not path.is_file():
        raise SeqexpError(
            f"model.embedding.pretrained={pretrained} is neither an existing GloVe file nor one of "
            f"glove.6B.50d / 100d / 200d / 300d (downloaded once into the cache); give the path to "
            f"a GloVe text file such as glove.6B.100d.txt, or null for a freshly initialised "
            "Embedding."
        )
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if n.endswith(".txt")]
        if len(members) != 1:
            raise SeqexpError(
                f"{path} holds {len(members)} .txt files ({members[:4]}); give the one to use, "
                f"e.g. model.embedding.pretrained=glove.6B.100d for glove.6B.zip."
            )
        return _zip_lines(path, members[0]), f"{path}:{members[0]}"
    return _text_lines(path), str(path)


def _text_lines(path: Path):
    """The file's lines as bytes: each is decoded where its line number is known."""
    with open(path, "rb") as f:
        yield from f


def _zip_lines(path: Path, member: str):
    with zipfile.ZipFile(path) as archive:
        if member not in archive.namelist():
            raise SeqexpError(f"{path} has no member {member}; it holds {archive.namelist()}.")
        with archive.open(member) as raw:
            yield from raw


def _read_lines(lines: Iterable[bytes], source: str):
    """(line number, text) of every line; a damaged zip or a non-UTF-8 line is a clear error."""
    number = 0
    try:
        for number, raw in enumerate(lines, start=1):  # noqa: B007 - read in the except
            try:  # utf-8-sig on line 1: a byte-order mark is not part of the first word
                yield number, raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as err:
                raise SeqexpError(
                    f"{source} line {number} is not UTF-8 text ({err.reason} at byte {err.start} "
                    "of the line); GloVe files are UTF-8 text, one word and its numbers a line."
                ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:
        raise SeqexpError(
            f"{source} is damaged after line {number} ({err}); replace it with an intact copy."
        ) from None


def glove_matrix(
    pretrained: str, vocabulary: list[str], dim: int | None = None, cache_dir: str | None = None
) -> tuple[np.ndarray, dict]:
    """(len(vocabulary), dim) float32 matrix of GloVe rows, and the coverage facts.

    Only the vocabulary's words are kept while the file streams by, so a 400k-word file costs
    the memory of the vocabulary, not of the file.
    """
    lines, source = glove_lines(str(pretrained), cache_dir)
    wanted = {word: i for i, word in enumerate(vocabulary) if word not in SPECIAL_TOKENS}
    matrix = None
    for number, line in _read_lines(lines, source):
        if not line.strip():
            continue  # a blank line (e.g. at the end) holds no vector
        word, _, rest = line.rstrip("\r\n").partition(" ")
        count = rest.count(" ") + 1 if rest else 0  # fast path: single spaces, as GloVe writes
        if count != dim:
            count = len(rest.split())
        if matrix is None:
            if count == 0:
                raise SeqexpError(
                    f"{source} line 1 is not 'word v1 v2 ...': {line[:60]!r}; a GloVe file holds "
                    "one word and its vector a line."
                )
            if dim and dim != count:
                raise SeqexpError(
                    f"model.embedding.dim={dim} does not match the {count}-dimensional vectors "
                    f"of {source}; set model.embedding.dim={count} (or null to take it "
                    "from the file)."
                )
            dim = count
            matrix = np.zeros((len(vocabulary), dim), dtype=np.float32)
        elif count != dim:
            header = (
                " (line 1 looked like a word2vec header 'count dim'; GloVe files have none)"
                if number == 2 and dim == 1
                else ""
            )
            raise SeqexpError(
                f"{source} line {number} has {count} values for {word!r}, expected {dim} as on "
                f"line 1: the vectors have inconsistent dimensions{header}."
            )
        index = wanted.get(word)
        if index is None:
            continue
        try:
            matrix[index] = np.array(rest.split(), dtype=np.float32)
        except ValueError:
            bad = next(v for v in rest.split() if not _is_number(v))
            raise SeqexpError(
                f"{source} line {number}: the vector of {word!r} holds {bad!r}, which is not a number."
            ) from None
    if matrix is None:
        raise SeqexpError(f"{source} is empty: no GloVe vectors in it.")
    if not np.isfinite(matrix).all():
        row = int(np.flatnonzero(~np.isfinite(matrix).all(axis=1))[0])
        raise SeqexpError(
            f"{source}: the vector of {vocabulary[row]!r} holds a non-finite value (nan or inf)."
        )
    found = np.flatnonzero(np.any(matrix != 0, axis=1))
    covered = {vocabulary[i] for i in found}
    missing = [word for word in wanted if word not in covered]
    facts = {
        "source": source,
        "dim": int(dim),
        "vocabulary_words": len(wanted),
        "covered_words": len(covered),
        "coverage": len(covered) / len(wanted) if wanted else 0.0,
        "missing_examples": missing[:20],
    }
    return matrix, facts


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def glove_coverage(model, bundle, run_dir, facts: dict) -> dict:
    """The report of a run that started from GloVe: how much of its vocabulary GloVe covered."""
    return facts
