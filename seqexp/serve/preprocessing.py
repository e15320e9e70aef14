"""preprocessing.json: what a run's model needs to read new inputs the way training read its data.

A loader names `save_preprocessing` as a Report with the facts of its protocol as options (Jena: every
column's training mean and std and the window; imdb-raw: maxlen, padding and the vocabulary
file; imdb: the index arithmetic; Fashion-MNIST: the pixel scale and class names). After
training, it writes them to the run directory (atomically) together with the model's task
and input shape; `seqexp predict` and `seqexp export` read them back with `load`.
"""

from __future__ import annotations

import json
from pathlib import Path

from seqexp.atomic import write_text
from seqexp.errors import SeqexpError
from seqexp.readback import json_object

FILE = "preprocessing.json"
INPUT_TOKENS_FILE = "input_tokens.json"  # imdb with a word index: the token of every input index
JENA_ROW_MINUTES = 10  # the Jena station records one row every 10 minutes


def save_preprocessing(model, bundle, run_dir, kind: str, **facts) -> dict:
    """The Report: write preprocessing.json (and imdb's input tokens) into the run directory."""
    spec = bundle.spec
    if kind == "imdb" and spec.vocabulary is not None:
        write_text(Path(run_dir) / INPUT_TOKENS_FILE, json.dumps(spec.vocabulary, ensure_ascii=False) + "\n")
        facts["input_tokens"] = INPUT_TOKENS_FILE
    saved = {
        "kind": kind,
        "task": spec.task,
        "input_kind": spec.input_kind,
        "input_shape": list(spec.input_shape),
        "class_names": spec.class_names,
        **facts,
    }
    write_text(Path(run_dir) / FILE, json.dumps(saved, ensure_ascii=False, indent=1) + "\n")
    return {"file": FILE, "kind": kind}


def load(run: Path) -> dict:
    """The preprocessing.json of a run directory; a clear error when the run has none."""
    path = run / FILE
    if not path.exists():
        raise SeqexpError(
            f"run={run} has no {FILE}: the run did not finish (it is written after the test "
            f"split is evaluated; `seqexp resume {run}` finishes an interrupted run) or was trained "
            f"by a seqexp without `seqexp predict`. Train it again to use it."
        )
    return json_object(path, {"kind": str}, fix="Train the run again to rewrite it.")
