"""A tiny Jena run and new rows for it, shared by the serve tests (each module trains its own),
and a run directory turned into what an older seqexp wrote."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import TINY_JENA, compose_train


@pytest.fixture(scope="module")
def jena_run(tmp_path_factory, jena_csv):
    from seqexp.run.train import train

    run = tmp_path_factory.mktemp("jena") / "run"
    train(
        compose_train(
            run, "model=gru", "model.units=[4]", f"data.path={jena_csv}", *TINY_JENA, "data.reverse=true"
        )
    )
    return run


@pytest.fixture(scope="module")
def new_rows(jena_csv, tmp_path_factory):
    """The last 300 rows of the file: 300 - 238 + 1 = 63 windows of 80 steps of 3 rows."""
    lines = jena_csv.read_text().splitlines()
    path = tmp_path_factory.mktemp("new") / "new_rows.csv"
    path.write_text("\n".join([lines[0], *lines[-300:]]) + "\n")
    return path


KINDS = {  # the "kind" of the preprocessing.json that seqexp wrote before serving.json
    "seqexp.data.jena.JenaServing": "jena",
    "seqexp.data.imdb.ImdbServing": "imdb",
    "seqexp.data.imdb_raw.ImdbRawServing": "imdb_raw",
    "seqexp.data.fashion_mnist.FashionServing": "fashion_mnist",
}


def as_legacy(run: Path, dest: Path) -> Path:
    """A copy of `run` as seqexp wrote it before serving.json: preprocessing.json holding the kind,
    task, input kind and shape, class names and the facts (a next-word run: vocabulary.json alone)."""
    shutil.copytree(run, dest)
    record = json.loads((dest / "serving.json").read_text())
    (dest / "serving.json").unlink()
    serving = record.pop("serving")
    if serving == "seqexp.data.headlines.HeadlinesServing":
        return dest
    del record["version"], record["target_name"]
    if record.get("input_tokens", "") is None:
        del record["input_tokens"]  # written only when a word index was found
    (dest / "preprocessing.json").write_text(json.dumps({"kind": KINDS[serving], **record}, indent=1))
    return dest
