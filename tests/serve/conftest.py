"""A tiny Jena run and new rows for it, shared by the serve tests (each module trains its own)."""

from __future__ import annotations

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
