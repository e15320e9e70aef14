"""NYT headlines (WD 11-2): a next-word language model over every prefix of every headline.

Protocol: read one column (default `headline`) of one Articles*.csv of the Kaggle dataset "New York
Times Comments", or of every such file in a folder; drop the placeholder headlines ("Unknown");
fold to ASCII, strip punctuation, lowercase (each an option); fit a vocabulary; every prefix of
length >= 2 of every headline becomes a sample, front-padded with 0 to the longest; input = all but
the last token, target = the last token, as a sparse class index (never a one-hot matrix).

The vocabulary is built like the Keras 2 `Tokenizer` WD uses (most frequent first, ties in order of
first appearance, index 0 reserved for padding and no out-of-vocabulary index), so the real April
2018 file gives WD's numbers: 1,324 headlines, 1,214 kept, vocabulary 3,494, longest 24, 7,803
samples. `TextVectorization` would always add an `[UNK]` index that a closed vocabulary never uses.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import Field

from seqexp.config.checks import checked
from seqexp.config.types import BatchSize, GeneratedWords, Seed
from seqexp.data.encoding import first_non_utf8_line
from seqexp.data.pipeline import batches
from seqexp.data.serving import Options, Serving, texts
from seqexp.data.spec import DataBundle, DataSpec, Report, provides
from seqexp.errors import SeqexpError
from seqexp.text.vocabulary import (
    VOCABULARY_FILE,
    Vocabulary,
    clean,
    fit_vocabulary,
    load_vocabulary,
    save_vocabulary,
)

log = logging.getLogger(__name__)

PATTERN = "Articles*.csv"
SOURCE = (
    'the Kaggle dataset "New York Times Comments" (https://www.kaggle.com/datasets/aashita/'
    "nyt-comments): download it, unzip it, and pass data.path=/path/to/ArticlesApril2018.csv (one "
    "month) or data.path=/path/to/folder (every Articles*.csv in it)"
)


def article_files(path: str | Path | None) -> list[Path]:
    """The csv files `data.path` names: the file itself, or every Articles*.csv of a folder."""
    if path is None:
        raise SeqexpError(f"data=headlines needs data.path; the headlines come from {SOURCE}.")
    path = Path(path).expanduser()
    if path.is_dir():
        files = sorted(path.glob(PATTERN))
        if not files:
            raise SeqexpError(
                f"data.path={path} is a folder without any {PATTERN} file; the files come from {SOURCE}."
            )
        return files
    if not path.is_file():
        raise SeqexpError(f"data.path={path} does not exist; the headlines come from {SOURCE}.")
    return [path]


def read_column(files: Sequence[Path], column: str) -> list[str]:
    """Every value of `column`, file after file, row after row (quoted fields may hold commas)."""
    values = []
    for file in files:
        try:
            with open(file, encoding="utf-8-sig", newline="") as f:
                reader = csv.DictReader(f)
                if reader.fieldnames is None:
                    raise SeqexpError(
                        f"{file} is empty; expected an NYT Articles csv whose first line names "
                        f"its columns (data.column={column!r} among them)."
                    )
                if column not in reader.fieldnames:
                    raise SeqexpError(
                        f"data.column={column!r} is not a column of {file}; its columns are "
                        f"{reader.fieldnames}."
                    )
                start = reader.line_num + 1  # the line where the next record starts
                for row in reader:
                    values.append(row[column] or "")
                    start = reader.line_num + 1
        except UnicodeDecodeError:
            raise SeqexpError(_not_utf8(file)) from None
        except csv.Error as err:
            raise SeqexpError(
                f"{file}: the record that starts on line {start} is not valid CSV ({err}); the NYT "
                f"Articles files are comma-separated, with double quotes around fields that hold "
                f"commas, quotes or line breaks (an unclosed quote runs on to the end of the file)."
            ) from None
    return values


def _not_utf8(file: Path) -> str:
    with open(file, "rb") as f:
        where = first_non_utf8_line(f) or "is not UTF-8 text"
    return f"{file} {where}; the NYT Articles files are UTF-8, re-save it as UTF-8."


def prefix_samples(sequences: Sequence[list[int]], max_length: int | None = None):
    """Every prefix of length >= 2, front-padded: (inputs [n, length-1], targets [n]) int32.

    `max_length` None pads to the longest prefix; otherwise longer prefixes keep their last tokens.
    """
    import keras

    prefixes = [seq[: i + 1] for seq in sequences for i in range(1, len(seq))]
    if not prefixes:
        raise SeqexpError(
            "No headline has two or more words after preprocessing, so there is no sample; check "
            "data.column and the preprocessing options (data.fold_ascii=false keeps non-Latin "
            "text)."
        )
    longest = max(map(len, prefixes))
    padded = keras.utils.pad_sequences(
        prefixes, maxlen=max_length or longest, padding="pre", truncating="pre", dtype="int32"
    )
    return padded[:, :-1], padded[:, -1], longest


@provides("tokens")
@checked("data")
def load_headlines(
    *,
    path: str | None,
    column: str,
    drop: list[str] | None,
    fold_ascii: bool,
    strip_punctuation: bool,
    lowercase: bool,
    max_length: Annotated[int, Field(ge=2, description="null: the longest headline")] | None,
    val_fraction: Annotated[float, Field(gt=0, lt=1, description="the headlines held out")] | None,
    batch_size: BatchSize,
    seed: Seed,
    vocabulary_file: str | None,
    sample_prompts: list[str],
    sample_words: GeneratedWords,
) -> DataBundle:
    files = article_files(path)
    raw = read_column(files, column)
    dropped_values = {str(d) for d in (drop or ())}
    kept = [text for text in raw if text not in dropped_values]
    preprocessing = {"fold_ascii": fold_ascii, "strip_punctuation": strip_punctuation, "lowercase": lowercase}
    tokenised = [clean(text, **preprocessing).split() for text in kept]

    if not any(len(words) >= 2 for words in tokenised):
        raise SeqexpError(
            f"No usable headline in column {column!r} of {', '.join(map(str, files))}: of "
            f"{len(raw):,} rows, {len(kept):,} are left after dropping {sorted(dropped_values)} and "
            f"none has two or more words after preprocessing, so there is no sample. Check "
            f"data.column, data.drop and the preprocessing options (data.fold_ascii=false keeps "
            f"non-Latin text)."
        )
    vocabulary = fit_vocabulary(tokenised)
    index = {word: i for i, word in enumerate(vocabulary)}
    sequences = [[index[w] for w in words] for words in tokenised]

    # Split whole headlines (not prefixes) so no validation prefix was seen in training.
    order = np.arange(len(sequences))
    n_val = 0
    if val_fraction:
        order = np.random.default_rng(seed).permutation(len(sequences))
        n_val = int(round(val_fraction * len(sequences)))
        if not 0 < n_val < len(sequences):
            raise SeqexpError(
                f"data.val_fraction={val_fraction} of {len(sequences)} headlines leaves an empty "
                "split; choose a fraction that keeps at least one headline on each side."
            )
    train_seqs = [sequences[i] for i in order[n_val:]]
    val_seqs = [sequences[i] for i in order[:n_val]]
    for name, split in (("training", train_seqs), ("validation", val_seqs)):
        if split and not any(len(seq) >= 2 for seq in split):
            raise SeqexpError(
                f"data.val_fraction={val_fraction} leaves {len(split)} {name} headline(s) of "
                f"{', '.join(map(str, files))}, none with two or more words: the {name} split "
                "has no sample. Choose another data.val_fraction or trainer.seed."
            )

    x_all, _, longest = prefix_samples(sequences, max_length)
    length = x_all.shape[1] + 1
    x_train, y_train, _ = prefix_samples(train_seqs, length)
    datasets = {"train": batches((x_train, y_train), batch_size, shuffle=True, seed=seed)}
    counts = {"train": len(y_train)}
    if val_seqs:
        x_val, y_val, _ = prefix_samples(val_seqs, length)
        datasets["val"] = batches((x_val, y_val), batch_size)
        counts["val"] = len(y_val)
    # WD has no held-out split: then the test metrics are those of the training samples.
    test_split = "val" if val_seqs else "train"
    datasets["test"] = datasets["val"] if val_seqs else batches((x_train, y_train), batch_size)

    if vocabulary_file:
        save_vocabulary(Path(vocabulary_file), vocabulary, preprocessing, length - 1)
    info = {
        "files": [str(f) for f in files],
        "column": column,
        "headlines": len(raw),
        "kept": len(kept),
        "vocab_size": len(vocabulary),
        "longest": longest,
        "input_length": length - 1,
        "samples": sum(len(s) - 1 for s in sequences if len(s) >= 2),
        "split_samples": counts,
        "test_split": test_split,
    }
    log.info(
        "Headlines: %s headlines in %d file(s), %s kept after dropping %s; vocabulary %s (with "
        "padding); longest %d tokens; %s samples (%s); test metrics on the %s samples",
        f"{len(raw):,}",
        len(files),
        f"{len(kept):,}",
        sorted(dropped_values),
        f"{len(vocabulary):,}",
        longest,
        f"{info['samples']:,}",
        ", ".join(f"{k} {v:,}" for k, v in counts.items()),
        test_split,
    )
    spec = DataSpec(
        task="next_token",
        input_kind="tokens",
        input_shape=(length - 1,),
        num_classes=len(vocabulary),
        vocab_size=len(vocabulary),
        target_name=column,
        vocabulary=vocabulary,
        info=info,
        reports=[
            Report(
                "seqexp.reports.samples.samples",
                {
                    "prompts": [str(p) for p in sample_prompts],
                    "words": sample_words,
                    "preprocessing": preprocessing,
                },
            )
        ]
        if sample_prompts
        else [],
        serving=HeadlinesServing(preprocessing=preprocessing),
    )
    return DataBundle(datasets["train"], datasets.get("val"), datasets["test"], spec)


# --- serving: a trained model continuing new prompts -----------------------------------------------


class HeadlinesServing(Serving):
    """The vocabulary (vocabulary.json: tokens, input length, preprocessing) turns each line of a
    new text file into a prompt that the model continues by `words` words, as `seqexp generate`."""

    preprocessing: dict[str, bool]
    vocabulary_file: str = VOCABULARY_FILE  # in the run directory

    caller_files = (VOCABULARY_FILE,)

    @classmethod
    def from_legacy(cls, saved: dict, run_dir: Path) -> HeadlinesServing:
        """A next-word run written before serving.json: its vocabulary.json says it all."""
        vocabulary = load_vocabulary(run_dir / VOCABULARY_FILE)
        return cls(
            task="next_token",
            input_kind="tokens",
            input_shape=[vocabulary["input_length"]],
            preprocessing=vocabulary.get("preprocessing") or {},
        )

    def save_files(self, bundle, run_dir: Path) -> None:
        """vocabulary.json in the run directory, also when data.vocabulary_file put it elsewhere."""
        if not (run_dir / self.vocabulary_file).exists():
            spec = bundle.spec
            save_vocabulary(
                run_dir / self.vocabulary_file, spec.vocabulary, self.preprocessing, spec.input_shape[0]
            )

    def read(self, inputs, options: Options, run_dir: Path) -> tuple[list[str], list[str]]:
        """Every non-empty line of the input files is a prompt (continued by seqexp.serve)."""
        return texts(inputs, lines=True, what="prompts")

    def vocabulary(self, run_dir: Path) -> Vocabulary:
        saved = load_vocabulary(run_dir / self.vocabulary_file)
        return Vocabulary(saved["tokens"], saved.get("preprocessing"))

    def describe(self, text: bool) -> dict:
        return {
            "input": f"the ids of a prompt's words, front-padded with 0 to {self.input_shape[0]}",
            "outside": f"ids: a word's index in {self.vocabulary_file}'s tokens, after its "
            f"preprocessing {self.preprocessing}",
            "inside": ["the model"],
            "output": {"meaning": f"probability of each token of {self.vocabulary_file} as the next word"},
        }
