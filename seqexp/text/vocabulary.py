"""A next-word model's vocabulary: the preprocessing of its texts, token <-> index, and the
vocabulary.json a run writes so that `seqexp generate` reads prompts the way training read text.

The vocabulary is built like the Keras 2 `Tokenizer` WD uses (most frequent first, ties in order
of first appearance, index 0 reserved for padding and no out-of-vocabulary index).
"""

from __future__ import annotations

import json
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from seqexp.atomic import write_text
from seqexp.readback import DamagedFile, json_object

VOCABULARY_FILE = "vocabulary.json"
ASCII_PUNCTUATION = set(string.punctuation)


def clean(text: str, fold_ascii=True, strip_punctuation=True, lowercase=True) -> str:
    """WD's preprocessing of one headline; folding drops every non-ASCII character (as WD does),
    stripping removes ASCII punctuation and, with folding off, Unicode punctuation too."""
    if fold_ascii:
        text = text.encode("utf-8").decode("ascii", "ignore")
    if strip_punctuation:
        text = "".join(
            c for c in text if c not in ASCII_PUNCTUATION and not unicodedata.category(c).startswith("P")
        )
    return text.lower() if lowercase else text


def fit_vocabulary(texts: Sequence[list[str]]) -> list[str]:
    """["", words...]: most frequent first, ties in order of first appearance (Keras Tokenizer)."""
    counts = Counter(word for words in texts for word in words)  # insertion-ordered
    return ["", *sorted(counts, key=counts.__getitem__, reverse=True)]


def save_vocabulary(path: Path, vocabulary: list[str], preprocessing: dict, input_length: int):
    """vocabulary.json: what `seqexp generate` needs to turn a prompt into model input."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(
        path,
        json.dumps(
            {
                "tokens": vocabulary,  # index = position; 0 is padding
                "input_length": input_length,
                "preprocessing": preprocessing,
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
    )


def load_vocabulary(path: Path) -> dict:
    """vocabulary.json as save_vocabulary wrote it (a DamagedFile when torn or edited by hand)."""
    fix = "It is written by the run's data loader; train the run again to rebuild it."
    saved = json_object(Path(path), {"tokens": list, "input_length": int}, fix=fix)
    if not all(isinstance(token, str) for token in saved["tokens"]):
        raise DamagedFile(path, "its 'tokens' are not all text", fix)
    return saved


class Vocabulary:
    """Token <-> index of a run, and the preprocessing its texts went through."""

    def __init__(self, tokens: Sequence[str], preprocessing: dict | None = None):
        self.tokens = list(tokens)
        self.preprocessing = dict(preprocessing or {})
        self.index = {token: i for i, token in enumerate(self.tokens) if i > 0}

    def encode(self, prompt: str) -> tuple[list[int], list[str]]:
        """(indices of known words, unknown words) of a prompt, preprocessed as in training."""
        words = clean(str(prompt), **self.preprocessing).split()
        known = [self.index[w] for w in words if w in self.index]
        return known, [w for w in words if w not in self.index]
