"""The serving side of the data contract: what a trained model needs to read new input, and how.

A dataset module declares it beside its loader: a `Serving` subclass whose fields are the facts of
its protocol (Jena: every column's training mean and std and the window; imdb: the index
arithmetic; Fashion-MNIST: the pixel scale), with the three things `seqexp predict` and
`seqexp export` ask of it:

- `read`: a new input file (or folder) -> (one name per sample, the serving model's inputs);
- `serving_model`: the trained model with the preprocessing layers in front (and behind, e.g. the
  target's unit), the one model predict runs and export writes, so both give the same outputs;
- `describe`: export.json's words for a caller without seqexp (what goes in, what is done inside).

The loader hands an instance to its spec (`DataSpec(serving=...)`); after training the run writes
it to serving.json (one typed file, the same for every dataset) and `load_serving` reads it back.
Run directories written before serving.json (preprocessing.json, or a next-word run's
vocabulary.json alone) are read by `load_legacy`. TensorFlow-free at import.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from seqexp.atomic import write_text
from seqexp.errors import SeqexpError
from seqexp.readback import DamagedFile, json_object

RECORD_FILE = "serving.json"
VERSION = 1
LEGACY_FILE = "preprocessing.json"  # what runs written before serving.json hold (load_legacy)
FIX = "It is written when the run finishes; train the run again to rewrite it."


@dataclass(frozen=True)
class Options:
    """`seqexp predict`'s options a dataset may use (conf/predict.yaml)."""

    lines: bool = False  # text: each non-empty line is one sample (false: each file is one)
    top_k: int = 1  # classification: the k most likely classes of each sample
    words: int = 10  # next-token models: words appended to each prompt


class Serving(BaseModel):
    """What a run's model needs to read new input. Subclasses add their facts as fields (JSON
    values) and implement `read`; the task-generic parts below serve most datasets as they are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Filled from the spec when the record is written (save_serving), not by the loader.
    task: str | None = None
    input_kind: str | None = None
    input_shape: list[int] | None = None
    class_names: list[str] | None = None
    target_name: str | None = None

    # Files of the run directory a caller needs beside an export that takes ids (copied there).
    caller_files: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_legacy(cls, saved: dict, run_dir: Path) -> Serving:
        """The facts of a run written before serving.json, from its preprocessing.json (`saved`)."""
        return cls.model_validate(legacy_facts(cls, saved))

    def save_files(self, bundle, run_dir: Path) -> None:
        """Write the files the facts refer to (e.g. a vocabulary) when the record is written."""

    # --- reading new input ---------------------------------------------------------------------

    def read(self, inputs: list[Path], options: Options, run_dir: Path) -> tuple[list[str], Any]:
        """(one name per sample, the serving model's inputs) of the given files."""
        raise NotImplementedError(f"{type(self).__name__} does not say how to read a new input file")

    def batches(self, inputs: list[Path], options: Options, run_dir: Path) -> Iterator[tuple[list[str], Any]]:
        """`read` in batches (override to keep a long file's samples out of memory)."""
        yield self.read(inputs, options, run_dir)

    def predict(self, model, inputs: list[Path], options: Options, run_dir: Path) -> list[dict]:
        """One dict per prediction (the columns of the table): the serving model on the inputs."""
        serving = self.serving_model(model, run_dir)
        rows = []
        for names, x in self.batches(inputs, options, run_dir):
            rows += self.rows(names, run_model(serving, x), options)
        return rows

    def rows(self, names: list[str], outputs: np.ndarray, options: Options) -> list[dict]:
        """The predictions as table rows, by task."""
        classes = self.class_names or []
        if self.task == "binary":
            positive = classes[1] if len(classes) == 2 else "1"
            label = (lambda p: classes[int(p >= 0.5)]) if len(classes) == 2 else (lambda p: int(p >= 0.5))
            return [
                {"input": name, f"p({positive})": float(p[0]), "label": label(p[0])}
                for name, p in zip(names, outputs, strict=True)
            ]
        if self.task in ("multiclass", "next_token"):
            k = min(options.top_k, outputs.shape[1])
            rows = []
            for name, p in zip(names, outputs, strict=True):
                for rank, index in enumerate(np.argsort(-p, kind="stable")[:k], start=1):
                    rows.append(
                        {
                            "input": name,
                            **({"rank": rank} if k > 1 else {}),
                            "class": classes[index] if index < len(classes) else int(index),
                            "probability": float(p[index]),
                        }
                    )
            return rows
        column = self.target_name or "prediction"
        return [
            {
                "input": name,
                **{column if len(o) == 1 else f"{column}[{i}]": float(v) for i, v in enumerate(o)},
            }
            for name, o in zip(names, np.reshape(outputs, (len(outputs), -1)), strict=True)
        ]

    def vocabulary(self, run_dir: Path):
        """Next-token tasks: the run's seqexp.text.vocabulary.Vocabulary; `read` gives the prompts,
        which `seqexp predict` continues word by word as `seqexp generate` does."""
        raise NotImplementedError(f"{type(self).__name__} has no vocabulary")

    # --- the model with its preprocessing -----------------------------------------------------

    def input_dtype(self, text: bool) -> str:
        return "int32" if self.input_kind == "tokens" else "float32"

    def serving_model(self, model, run_dir: Path, text: bool = True):
        """The trained model with the preprocessing in front; `text=False`: numbers in (formats
        without string ops). Default: the model as it is, on inputs of the training shape."""
        import keras

        name = "token_ids" if self.input_kind == "tokens" else "inputs"
        inputs = keras.Input(tuple(self.input_shape), dtype=self.input_dtype(text), name=name)
        return keras.Model(inputs, model(inputs), name=model.name)

    def describe(self, text: bool) -> dict:
        """export.json's words: `input` (its meaning), `inside` (steps in the graph), `outside`
        (what the caller does first, if anything) and `output` (meaning, class names, unit)."""
        output = {"meaning": OUTPUT_MEANINGS.get(self.task, "the model's output")}
        if self.class_names:
            output["class_names"] = self.class_names
        return {
            "input": f"{self.input_kind} of shape {self.input_shape}, as in training",
            "inside": ["the model"],
            "output": output,
        }


OUTPUT_MEANINGS = {
    "binary": "probability of the second class",
    "multiclass": "probability of each class",
    "next_token": "probability of each token as the next one",
    "regression": "the predicted value",
}


# --- the record: serving.json -----------------------------------------------------------------


def class_path(serving: Serving) -> str:
    return f"{type(serving).__module__}.{type(serving).__qualname__}"


def save_serving(model, bundle, run_dir) -> dict:
    """The Report every spec with a `serving` runs: write serving.json (and the files the dataset
    saves with it) into the run directory, atomically."""
    spec = bundle.spec
    serving = spec.serving.model_copy(
        update={
            "task": spec.task,
            "input_kind": spec.input_kind,
            "input_shape": [int(n) for n in spec.input_shape],
            "class_names": spec.class_names,
            "target_name": spec.target_name,
        }
    )
    serving.save_files(bundle, Path(run_dir))
    record = {"version": VERSION, "serving": class_path(serving), **serving.model_dump(mode="json")}
    write_text(Path(run_dir) / RECORD_FILE, json.dumps(record, ensure_ascii=False, indent=1) + "\n")
    return {"file": RECORD_FILE, "serving": record["serving"]}


DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


def serving_class(name: str, where: Path) -> type[Serving]:
    """The Serving subclass a record names: imported from the installed packages (never from the
    run directory), and refused unless it is a Serving."""
    if not DOTTED.match(name):
        raise DamagedFile(where, f"its 'serving' {name!r} is not a dotted Python name", FIX)
    module, _, attribute = name.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as err:
        raise SeqexpError(
            f"{where} names the dataset class {name}, which cannot be imported ({err}); the run "
            f"was trained with a dataset module this installation lacks: install it (or put it "
            f"on PYTHONPATH) to use the run."
        ) from None
    if not (isinstance(found, type) and issubclass(found, Serving)):
        raise DamagedFile(where, f"its 'serving' {name} is not a seqexp.data.serving.Serving", FIX)
    return found


def load_serving(run_dir: Path) -> Serving:
    """What a run's model needs to read new input: serving.json, or an older run's files."""
    path = Path(run_dir) / RECORD_FILE
    if not path.exists():
        return load_legacy(Path(run_dir))
    saved = json_object(path, {"version": int, "serving": str}, fix=FIX)
    if saved["version"] > VERSION:
        raise SeqexpError(
            f"{path} is version {saved['version']}, written by a newer seqexp (this one reads "
            f"version {VERSION}); upgrade seqexp to use the run."
        )
    cls = serving_class(saved["serving"], path)
    facts = {k: v for k, v in saved.items() if k not in ("version", "serving")}
    return validated(cls, facts, path)


def validated(cls: type[Serving], facts: dict, path: Path) -> Serving:
    try:
        return cls.model_validate(facts)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(map(str, first["loc"])) or "(top)"
        raise DamagedFile(path, f"{where}: {first['msg']}", FIX) from None


# The classes that read the preprocessing.json of runs written before serving.json, by its "kind".
LEGACY_KINDS = {
    "jena": "seqexp.data.jena.JenaServing",
    "imdb": "seqexp.data.imdb.ImdbServing",
    "imdb_raw": "seqexp.data.imdb_raw.ImdbRawServing",
    "fashion_mnist": "seqexp.data.fashion_mnist.FashionServing",
}
LEGACY_NEXT_WORD = "seqexp.data.headlines.HeadlinesServing"  # a vocabulary.json and nothing else


def load_preprocessing(run_dir: Path) -> dict:
    """An older run's preprocessing.json; a clear error when the run has neither it nor serving.json."""
    path = Path(run_dir) / LEGACY_FILE
    if not path.exists():
        raise SeqexpError(
            f"run={run_dir} has no {RECORD_FILE} (nor the {LEGACY_FILE} of older runs): the run did "
            f"not finish (it is written after the test split is evaluated; `seqexp resume "
            f"{run_dir}` finishes an interrupted run) or was trained by a seqexp without "
            f"`seqexp predict`. Train it again to use it."
        )
    return json_object(path, {"kind": str}, fix="Train the run again to rewrite it.")


def load_legacy(run_dir: Path) -> Serving:
    """The serving facts of a run written before serving.json, read from its own files."""
    from seqexp.text.vocabulary import VOCABULARY_FILE

    if not (run_dir / LEGACY_FILE).exists() and (run_dir / VOCABULARY_FILE).exists():
        cls = serving_class(LEGACY_NEXT_WORD, run_dir / VOCABULARY_FILE)
        return cls.from_legacy({}, run_dir)
    saved = load_preprocessing(run_dir)
    path = run_dir / LEGACY_FILE
    if saved["kind"] not in LEGACY_KINDS:
        raise DamagedFile(path, f"its kind {saved['kind']!r} is not one of {sorted(LEGACY_KINDS)}", FIX)
    return serving_class(LEGACY_KINDS[saved["kind"]], path).from_legacy(saved, run_dir)


def legacy_facts(cls: type[Serving], saved: dict) -> dict:
    """The keys of an old preprocessing.json that are fields of `cls` (the rest was bookkeeping)."""
    return {key: value for key, value in saved.items() if key in cls.model_fields}


# --- shared readers and runner ----------------------------------------------------------------


def input_files(inputs: Sequence[Path], suffixes: tuple[str, ...], what: str) -> list[Path]:
    """The files `input` names: a file, or every file of a folder whose suffix is in `suffixes`."""
    paths = []
    for path in inputs:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
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


def texts(inputs: Sequence[Path], lines: bool, what: str = "text") -> tuple[list[str], list[str]]:
    """(names, texts): each .txt file one text, or (`lines`) each non-empty line one text."""
    names, found = [], []
    for path in input_files(inputs, (".txt",), f"a UTF-8 text file of {what}"):
        try:
            content = path.read_text(encoding="utf-8-sig")  # a byte-order mark is not text
        except UnicodeDecodeError as err:
            raise SeqexpError(
                f"input={path} is not UTF-8 text (byte {err.start}: {err.reason}); expected {what}."
            ) from None
        if lines:
            for number, line in enumerate(content.splitlines(), start=1):
                if line.strip():
                    names.append(f"{path.name}:{number}")
                    found.append(line)
        else:
            names.append(path.name)
            found.append(content)
    if not found:
        raise SeqexpError(f"input={[str(p) for p in inputs]} holds no {what}.")
    return names, found


def run_model(model, inputs) -> np.ndarray:
    """The model's outputs for a batch of inputs (strings go through the graph directly)."""
    import keras

    if isinstance(inputs, np.ndarray) and inputs.dtype == object:
        import tensorflow as tf  # Keras' predict cannot batch strings; the graph can

        return keras.ops.convert_to_numpy(model(tf.constant(inputs.astype(str)), training=False))
    return model.predict(inputs, batch_size=256, verbose=0)
