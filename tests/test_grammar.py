"""One grammar for the command line: the run or sweep directory first, one name per setting, and
one layout for every command's --help (issue "One tool to the hand")."""

from __future__ import annotations

import json
import re

import pytest

from seqexp.cli import commands, main
from seqexp.cli.hydra_app import run_dir_as_override
from seqexp.errors import SeqexpError
from tests.badinput import run_cli, run_cli_output

HYDRA_COMMANDS = ("train", "predict", "export", "generate")


def help_text(name: str, capsys) -> str:
    code, out, err = run_cli_output([name, "--help"], capsys)
    assert code == 0, err
    return out


@pytest.mark.parametrize("name", list(commands()))
def test_every_command_help_has_one_layout(name, capsys):
    text = help_text(name, capsys)
    blocks = text.strip("\n").split("\n\n")
    assert blocks[0].startswith(f"usage: seqexp {name} "), blocks[0]
    description = blocks[1]
    assert description[0].isupper() and description.rstrip().endswith(".") and ":\n" not in description
    examples = next(b for b in blocks if b.startswith("examples:\n")).splitlines()[1:]
    assert examples and all(line.startswith("  seqexp ") for line in examples), examples
    assert any(line.startswith(f"  seqexp {name} ") for line in examples)
    assert blocks.index(next(b for b in blocks if b.startswith("examples:"))) > 1  # after the options
    if name in HYDRA_COMMANDS:
        assert "\noptions (override any value with key=value):\n" in text
        assert ("\nconfig groups (choose one option each" in text) == (name == "train")
        assert "run: null" in text if name != "train" else "model: " in text
    # the old looks: Hydra's capitalised headings, the hand-written `Examples:`
    assert not re.search(r"^(Examples|Options|Config groups|Composed config)", text, re.M)


def test_a_leading_path_becomes_run_where_it_stands():
    assert run_dir_as_override(["out/a b", "input=x.csv"], "predict") == ["run='out/a b'", "input=x.csv"]
    # flags and their values stay where they are; the one bare word is the run directory
    assert run_dir_as_override(["--cfg", "job", "RUN", "prompt=how"], "generate") == [
        "--cfg",
        "job",
        "run='RUN'",
        "prompt=how",
    ]
    assert run_dir_as_override(["-m", "RUN", "format=onnx,litert"], "export") == [
        "-m",
        "run='RUN'",
        "format=onnx,litert",
    ]
    assert run_dir_as_override(["run=RUN", "input=x"], "predict") == ["run=RUN", "input=x"]
    assert run_dir_as_override(["RUN's"], "export") == ["run='RUN\\'s'"]  # quoted for Hydra's grammar


def test_a_folder_whose_name_holds_an_equals_sign_is_still_the_run(tmp_path):
    run = tmp_path / "lr=0.1"
    run.mkdir()
    assert run_dir_as_override([str(run), "format=onnx"], "export") == [f"run='{run}'", "format=onnx"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["RUN", "run=OTHER", "input=x.csv"],
            "The run directory is given twice: RUN (the first argument) and run=OTHER. Give it once, "
            "as the first argument: `seqexp predict RUN ...`.",
        ),
        (
            ["RUN", "x.csv"],
            "'x.csv' has no key: only the run directory is given without one, as the first argument "
            "(`seqexp predict RUN ...`); every other setting is key=value (e.g. input=x.csv).",
        ),
    ],
)
def test_a_path_given_twice_or_a_bare_value_is_refused_naming_the_right_form(args, message):
    with pytest.raises(SeqexpError) as err:
        run_dir_as_override(args, "predict")
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["predict", "input=x.csv"],
            "seqexp: error: seqexp predict needs a run directory, as its first argument: "
            "`seqexp predict <run dir> input=new_rows.csv`",
        ),
        (
            ["export", "format=onnx"],
            "seqexp: error: seqexp export needs a run directory, as its first argument: "
            "`seqexp export <run dir> format=onnx`",
        ),
        (
            ["generate", "prompt=how"],
            "seqexp: error: seqexp generate needs a run directory, as its first argument: "
            "`seqexp generate <run dir> prompt=how words=10`",
        ),
        (
            ["generate", "RUN", "run=OTHER", "prompt=how"],
            "seqexp: error: The run directory is given twice: RUN (the first argument) and run=OTHER.",
        ),
        (
            ["export", "RUN", "onnx"],
            "seqexp: error: 'onnx' has no key: only the run directory is given without one, as the "
            "first argument (`seqexp export RUN ...`); every other setting is key=value (e.g. format=onnx).",
        ),
    ],
)
def test_a_missing_run_dir_is_refused_naming_the_right_form(args, message, capsys):
    code, err = run_cli(args, capsys)
    assert code == 2 and err.startswith(message) and "Traceback" not in err


def test_summarize_writes_where_output_says_and_keeps_out_as_a_hidden_alias(tmp_path, capsys):
    from tests.test_command_faults import hand_made_run

    hand_made_run(tmp_path / "runs" / "a")
    for flag, folder in (("--output", "new"), ("--out", "old")):
        assert main(["summarize", str(tmp_path / "runs"), flag, str(tmp_path / folder)]) == 0
        assert sorted(p.name for p in (tmp_path / folder).iterdir()) == [
            "comparison.png",
            "summary.csv",
            "summary.md",
        ]
    assert "--out " not in help_text("summarize", capsys) and "--output OUTPUT" in help_text(
        "summarize", capsys
    )


def test_summarize_prints_the_format_asked_for(tmp_path, capsys):
    from tests.test_command_faults import hand_made_run

    hand_made_run(tmp_path / "runs" / "a")
    hand_made_run(tmp_path / "runs" / "b", status="failed")
    outputs = {}
    for form in ("csv", "json", "md"):
        code, outputs[form], err = run_cli_output(
            ["summarize", str(tmp_path / "runs"), "--format", form], capsys
        )
        assert code == 0 and err.startswith("seqexp: wrote ")  # stdout holds the document alone
    assert outputs["csv"] == (tmp_path / "runs" / "summary.csv").read_text()
    assert outputs["md"] == (tmp_path / "runs" / "summary.md").read_text()
    rows = json.loads(outputs["json"])
    assert [(r["job"], r["status"], r["rank"]) for r in rows] == [("a", "completed", 1), ("b", "failed", "")]
