"""The pass beyond the issue's list (docs/testing.md, "Beyond the list"): each command's inputs
and environment as a user gets them wrong: hand-edited run files, values of the wrong kind,
read-only or missing folders. Each ends as one `seqexp: error:` paragraph (or an honest table),
exit != 0 where nothing useful was done, and nothing already written is lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seqexp.cli import main
from seqexp.summary.values import number
from tests.test_command_faults import hand_made_run


def with_config(run: Path, text: str) -> Path:
    (run / ".hydra" / "config.yaml").write_text(text)
    return run


@pytest.mark.parametrize(
    "broken, problem",
    [
        ("model: [unclosed\n", "it is not valid YAML at line 2"),
        (None, "it is missing"),
        ("- a list\n", "it holds a list, not a mapping"),
    ],
)
def test_diff_does_not_call_every_key_absent_when_a_config_is_unreadable(tmp_path, capsys, broken, problem):
    a = with_config(hand_made_run(tmp_path / "a"), "model:\n  units: 32\ndata:\n  step: 6\n")
    b = hand_made_run(tmp_path / "b")
    if broken is not None:
        with_config(b, broken)
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"composed config: not compared, B ({b}) .hydra/config.yaml: {problem}")
    assert "(absent)" not in out and "model.units" not in out
    assert main(["diff", str(a), str(b), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["config"] == [] and report["config_not_compared"]["B"].startswith(".hydra/config.yaml: ")
    with_config(b, "model:\n  units: 64\ndata:\n  step: 6\n")  # readable again: compared key by key
    assert main(["diff", str(a), str(b)]) == 0
    assert "composed config (.hydra/config.yaml): 1 key(s) differ" in capsys.readouterr().out


def test_a_boolean_is_not_a_number(tmp_path, capsys):
    assert number(True) is None and number(False) is None and number(0) == 0.0
    assert main(["runs", str(tmp_path), "--where", "model.dropout>true"]) == 2
    assert "> compares numbers, and 'true' is not one" in capsys.readouterr().err
    run = hand_made_run(tmp_path / "edited")
    report = json.loads((run / "metrics.json").read_text())
    report["best"] = {"val_loss": True}  # edited by hand: not a loss of 1
    (run / "metrics.json").write_text(json.dumps(report))
    assert main(["runs", str(tmp_path), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["best"] is None
