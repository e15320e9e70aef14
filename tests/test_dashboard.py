"""`seqexp search` prints the optuna-dashboard command for its study; the dashboard's own code
(the storage its CLI opens, its HTTP API) reads the study back with every trial."""

from __future__ import annotations

import shlex

import pytest
import yaml

from seqexp.search.driver import dashboard_hint
from tests.test_search import finish, metrics, search_args, start

pytest.importorskip("optuna_dashboard")  # the [dashboard] extra, part of dev


def dashboard_argv(stderr: str) -> list[str]:
    """The command of the one `watch it live:` line, as a shell would split it."""
    (line,) = [line for line in stderr.splitlines() if "watch it live:" in line]
    return shlex.split(line.split("watch it live:", 1)[1].split("(pip install", 1)[0])


def test_the_hint_quotes_a_journal_path_and_keeps_a_database_url():
    assert dashboard_argv(dashboard_hint("/data/my search/study.journal")) == [
        "optuna-dashboard",
        "/data/my search/study.journal",
    ]
    assert dashboard_argv(dashboard_hint("postgresql://u@db/optuna")) == [
        "optuna-dashboard",
        "postgresql://u@db/optuna",
    ]


@pytest.mark.slow
def test_the_printed_dashboard_command_opens_the_study_with_its_trials(jena_csv, tmp_path):
    from optuna_dashboard import wsgi
    from optuna_dashboard._storage_url import get_storage  # what `optuna-dashboard STORAGE` calls
    from werkzeug.test import Client

    root = tmp_path / "search"
    code, err = finish(start(*search_args(jena_csv, root, "hparams_search.n_trials=2"), cwd=tmp_path))
    assert code == 0, err[-3000:]
    program, storage_arg = dashboard_argv(err)
    assert program == "optuna-dashboard" and storage_arg == str(root / "study.journal")

    client = Client(wsgi(get_storage(storage_arg)))
    (study,) = client.get("/api/studies").json["study_summaries"]
    asked = yaml.safe_load((root / "search.yaml").read_text())["search"]
    assert study["study_name"] == asked["study_name"] == "recurrent_tpe"
    detail = client.get(f"/api/studies/{study['study_id']}").json
    trials = detail["trials"]
    assert [t["number"] for t in trials] == [0, 1]
    assert [t["state"] for t in trials] == ["Complete", "Complete"]
    for trial in trials:
        attrs = {a["key"]: a["value"] for a in trial["user_attrs"]}
        run = metrics(root / attrs["run_dir"])
        assert trial["values"] == [pytest.approx(run["best"]["val_loss"])]
        assert {p["name"] for p in trial["params"]} == set(asked["params"])
