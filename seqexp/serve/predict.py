"""`seqexp predict <run dir> input=<path>`: the run's model on new inputs, read and
preprocessed as the dataset's own module declares (seqexp.data.serving), printed as a table or
written as csv / json.

Every file `input` names is predicted (a folder: each of its files of the kinds the dataset
reads), into one output. The document goes to stdout and nothing else does (logs go to stderr),
so `> forecast.json` and `| jq` get valid JSON. `format=table` is a table on a terminal (its
first TABLE_ROWS rows, then a line saying how many are left out) and csv anywhere else.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from seqexp.atomic import write_text
from seqexp.config.types import MAX_WORDS
from seqexp.data.serving import Options
from seqexp.errors import SeqexpError
from seqexp.serve.model import make_parent
from seqexp.table import on_terminal
from seqexp.table import render as table_text

log = logging.getLogger(__name__)

FORMATS = ("table", "csv", "json", "md")  # the names the listing commands use (seqexp.table)
TABLE_ROWS = 20  # rows a terminal shows; output= writes them all


def check_options(cfg: DictConfig) -> tuple[list[Path], Options]:
    if cfg.get("run") is None:
        raise SeqexpError(
            "seqexp predict needs a run directory, as its first argument: `seqexp predict <run dir> "
            "input=new_rows.csv` (e.g. seqexp predict outputs/<date>/<time>_<data>_<model> input=...)."
        )
    if cfg.get("input") is None:
        raise SeqexpError(
            f"seqexp predict needs input=...: e.g. `seqexp predict {cfg.run} input=new_rows.csv`."
        )
    if cfg.format not in FORMATS:
        raise SeqexpError(f"format={cfg.format!r} is not allowed; choose one of {list(FORMATS)}.")
    if not isinstance(cfg.lines, bool):
        raise SeqexpError(f"lines={cfg.lines!r} must be true (a sample a line) or false (a sample a file).")
    for key in ("top_k", "words"):
        if not isinstance(cfg[key], int) or isinstance(cfg[key], bool) or cfg[key] < 1:
            raise SeqexpError(f"{key}={cfg[key]!r} must be a whole number >= 1.")
    if cfg.words > MAX_WORDS:  # one model call per word: a typo of 10**20 would never end
        raise SeqexpError(f"words={cfg.words} must be at most {MAX_WORDS} (words appended to each prompt).")
    inputs = OmegaConf.to_container(cfg.input) if OmegaConf.is_list(cfg.input) else [cfg.input]
    if not inputs:
        raise SeqexpError("input=[] is empty; give at least one file.")
    paths = [Path(str(i)).expanduser() for i in inputs]
    if cfg.output:
        output = Path(str(cfg.output)).expanduser()
        refuse_overwriting(output, paths)
        make_parent(output)  # before the model runs: a path that cannot be written is said first
    return paths, Options(lines=cfg.lines, top_k=cfg.top_k, words=cfg.words)


def refuse_overwriting(output: Path, inputs: list[Path]) -> None:
    """The output must not be an input (the same file by any name: a link, a relative path)."""
    if output.is_dir():
        raise SeqexpError(
            f"output={output} is a folder; give the path of the file to write, e.g. output=predictions.csv."
        )
    if not output.exists():
        return
    for given in inputs:
        files = [p for p in given.iterdir() if p.is_file()] if given.is_dir() else [given]
        for file in files:
            if file.exists() and os.path.samefile(file, output):
                raise SeqexpError(
                    f"output={output} is the input file {file}: writing the predictions there would "
                    f"overwrite it. Give another output path, e.g. output=predictions.csv."
                )


def predict_rows(cfg: DictConfig) -> list[dict]:
    """One dict per prediction (the columns of the table), for the run and inputs of `cfg`."""
    from seqexp.serve.model import load_run

    inputs, options = check_options(cfg)
    run = load_run(cfg.run, cfg.checkpoint)
    if run.serving.task == "next_token":
        rows = continue_lines(run, inputs, options)
    else:
        rows = run.serving.predict(run.model, inputs, options, run.path)
    if not rows:
        raise SeqexpError(f"input={[str(p) for p in inputs]} gave no sample to predict.")
    return rows


def continue_lines(run, inputs: list[Path], options: Options) -> list[dict]:
    """A next-token model: each prompt the dataset reads is continued as `seqexp generate` does."""
    from seqexp.text.generate import continue_prompts

    _, prompts = run.serving.read(inputs, options, run.path)
    vocab = run.serving.vocabulary(run.path)
    if run.model.output_shape[-1] != len(vocab.tokens):
        raise SeqexpError(
            f"The checkpoint of run={run.path} predicts {run.model.output_shape[-1]} tokens but its "
            f"vocabulary holds {len(vocab.tokens)}: they are not from one run."
        )
    return [
        {"prompt": r.prompt, "continuation": r.text if r.known else "", "unknown words": " ".join(r.unknown)}
        for r in continue_prompts(run.model, vocab, prompts, options.words)
    ]


def render(rows: list[dict], fmt: str, terminal: bool = False) -> str:
    """The document: json, csv, md, or (`table` on a terminal) the first TABLE_ROWS rows boxed."""
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    if fmt == "md":
        return table_text(list(rows[0]), [[str(v) for v in row.values()] for row in rows], "md")
    if fmt == "csv" or not terminal:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    shown = [
        [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row.values()] for row in rows[:TABLE_ROWS]
    ]
    text = table_text(list(rows[0]), shown, "table", terminal=True)
    left = len(rows) - TABLE_ROWS
    if left > 0:
        text += (
            f"... {left} more row(s) not shown ({len(rows)} in all); output=predictions.csv "
            f"writes them all.\n"
        )
    return text


def predict(cfg: DictConfig) -> list[dict]:
    """The `seqexp predict` job: print the predictions, or write them to `output`."""
    rows = predict_rows(cfg)
    if cfg.output:
        write_text(Path(str(cfg.output)).expanduser(), render(rows, cfg.format))
        log.info("Wrote %d prediction(s) to %s", len(rows), cfg.output)
    else:
        print(render(rows, cfg.format, terminal=on_terminal()), end="", flush=True)
    return rows
