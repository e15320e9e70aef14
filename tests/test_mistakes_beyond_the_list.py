"""The pass beyond the issue's list (docs/testing.md, "Beyond the list"): each command's inputs
and environment as a user gets them wrong: hand-edited run files, values of the wrong kind,
read-only or missing folders. Each ends as one `seqexp: error:` paragraph (or an honest table),
exit != 0 where nothing useful was done, and nothing already written is lost."""

from __future__ import annotations

import errno
import json
import math
from pathlib import Path

import pytest

from seqexp.cli import main
from seqexp.summary.values import number
from tests.badinput import assert_no_success, run_cli
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
def test_diff_does_not_call_every_key_absent_when_a_config_is_unreadable(
    tmp_path, monkeypatch, capsys, broken, problem
):
    monkeypatch.chdir(tmp_path)  # diff's figure lands in the working folder
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


def test_a_number_is_finite_and_not_a_boolean(tmp_path, capsys):
    assert number(True) is None and number(False) is None and number(0) == 0.0
    assert number(math.nan) is None and number("inf") is None and number("-1e400") is None
    assert number("2.5") == 2.5
    assert main(["runs", str(tmp_path), "--where", "model.dropout>true"]) == 2
    assert "> compares numbers, and 'true' is not one" in capsys.readouterr().err
    run = hand_made_run(tmp_path / "edited")
    report = json.loads((run / "metrics.json").read_text())
    report["best"] = {"val_loss": True}  # edited by hand: not a loss of 1
    (run / "metrics.json").write_text(json.dumps(report))
    assert main(["runs", str(tmp_path), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["best"] is None


@pytest.mark.parametrize(
    "command, target",
    [
        ("predict", "seqexp.serve.predict.predict"),
        ("export", "seqexp.serve.export.export"),
        ("generate", "seqexp.text.generate.generate"),
    ],
)
def test_a_read_only_output_of_a_command_without_a_run_of_its_own_is_one_sentence(
    command, target, monkeypatch, capsys
):
    """predict/export/generate have no paths.run_dir: the disk message must not look one up."""
    module, name = target.rsplit(".", 1)

    def read_only(cfg):
        raise OSError(errno.EROFS, "Read-only file system", "/mnt/ro/out.csv")

    monkeypatch.setattr(__import__(module, fromlist=[name]), name, read_only)
    code, err = run_cli([command, "run=/nowhere"], capsys)
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "seqexp: error: Could not write (/mnt/ro/out.csv): the file system is read-only "
        "(Read-only file system)."
    )
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["generate", "run=R", "prompt=how"],
            "words=99999999999999999999 must be a whole number from 1 to 1000",
        ),
        (["predict", "run=R", "input=I"], "words=99999999999999999999 must be at most 1000"),
        (["train", "data=headlines", "data.path=P"], "data.sample_words=99999999999999999999"),
    ],
)
def test_a_huge_word_count_is_refused_not_run_for_ever(tmp_path, capsys, args, message):
    """One model call per word: 10**20 words would never end (generate, predict on a headlines
    run, the samples written after a headlines training)."""
    key = "data.sample_words" if args[0] == "train" else "words"
    args = [
        a.replace("=R", f"={tmp_path}").replace("=I", f"={tmp_path}").replace("=P", f"={tmp_path}")
        for a in args
    ]
    if args[0] == "train":
        args.append(f"hydra.run.dir={tmp_path / 'run'}")
    code, err = run_cli([*args, f"{key}=99999999999999999999"], capsys)
    assert code == 2 and message in err and "Traceback" not in err
    assert "1000" in err.split(message.split("=")[0], 1)[1]
    assert_no_success(tmp_path / "run")


@pytest.mark.parametrize("seed", ["nan", "-1", "true", "abc"])
def test_a_sampling_seed_that_is_not_a_whole_number_is_named(tmp_path, capsys, seed):
    code, err = run_cli(
        ["generate", f"run={tmp_path}", "prompt=how", "temperature=1", f"seed={seed}"], capsys
    )
    assert code == 2 and "must be a whole number >= 0 (the sampling seed)" in err and "Traceback" not in err


def test_an_infinite_learning_rate_is_refused_before_training(tmp_path, capsys):
    """inf passes `> 0`; it used to train until the loss was nan, then say "diverged"."""
    run = tmp_path / "run"
    code, err = run_cli(
        ["train", "experiment=smoke", "optimizer.learning_rate=inf", f"hydra.run.dir={run}"], capsys
    )
    assert code == 2 and "optimizer.learning_rate=inf must be a number above 0" in err
    assert not (run / "history.csv").exists()
    assert_no_success(run)
