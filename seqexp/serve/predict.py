"""`seqexp predict run=<run dir> input=<path>`: the run's model on new inputs, with its own
preprocessing (seqexp.serve.model), printed as a table or written as csv / json.

- jena: a Jena-format CSV; one forecast per window (every row that has `lookback` rows before
  it), in the target's unit, timed `horizon_rows` x 10 minutes after the window's last row;
- imdb-raw: text files (or their lines, lines=true); imdb: .json word-rank lists, or text when
  the run saved a word index; one positive-review probability each;
- fashion-mnist: PNG/JPEG images or IDX image files; the top_k classes and their probabilities;
- headlines: each line of the input is a prompt, continued by `words` words (seqexp generate).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from seqexp.atomic import write_text
from seqexp.errors import SeqexpError
from seqexp.readback import json_list
from seqexp.serve import readers
from seqexp.serve.preprocessing import FILE, JENA_ROW_MINUTES
from seqexp.text.vocabulary import VOCABULARY_FILE

log = logging.getLogger(__name__)

FORMATS = ("table", "csv", "json")


def check_options(cfg: DictConfig) -> list[str]:
    for key in ("run", "input"):
        if cfg.get(key) is None:
            raise SeqexpError(
                f"seqexp predict needs {key}=...: e.g. seqexp predict run=outputs/<date>/"
                f"<time>_jena_gru input=new_rows.csv."
            )
    if cfg.format not in FORMATS:
        raise SeqexpError(f"format={cfg.format!r} is not allowed; choose one of {list(FORMATS)}.")
    if not isinstance(cfg.lines, bool):
        raise SeqexpError(f"lines={cfg.lines!r} must be true (a review a line) or false (a review a file).")
    for key in ("top_k", "words"):
        if not isinstance(cfg[key], int) or isinstance(cfg[key], bool) or cfg[key] < 1:
            raise SeqexpError(f"{key}={cfg[key]!r} must be a whole number >= 1.")
    inputs = OmegaConf.to_container(cfg.input) if OmegaConf.is_list(cfg.input) else [cfg.input]
    if not inputs:
        raise SeqexpError("input=[] is empty; give at least one file.")
    return [str(i) for i in inputs]


def predict_rows(cfg: DictConfig) -> list[dict]:
    """One dict per prediction (the columns of the table), for the run and inputs of `cfg`."""
    from seqexp.serve.model import check_run_dir, load_run, serving_model

    inputs = check_options(cfg)
    run_dir = check_run_dir(cfg.run)
    if not (run_dir / FILE).exists() and (run_dir / VOCABULARY_FILE).exists():
        return continue_lines(cfg, inputs)
    run = load_run(run_dir, cfg.checkpoint)
    prep, model = run.prep, serving_model(run)
    if run.kind == "jena":
        if len(inputs) != 1:
            raise SeqexpError(f"input={inputs}: a Jena run forecasts from one CSV at a time.")
        path = readers.input_paths(inputs, (".csv",), "a Jena climate CSV")[0]
        count, batches = readers.jena_windows(path, prep)
        log.info(
            "Forecasting %s %d rows ahead for %d window(s) of %s",
            prep["target"],
            prep["horizon_rows"],
            count,
            path,
        )
        column = prep["target"]
        rows = []
        ahead = dt.timedelta(minutes=JENA_ROW_MINUTES * prep["horizon_rows"])
        for times, windows in batches:
            for time, value in zip(times, run_model(model, windows)[:, 0], strict=True):
                rows.append(
                    {
                        "last_row": time.strftime(readers.JENA_TIME_FORMAT),
                        "forecast_for": (time + ahead).strftime(readers.JENA_TIME_FORMAT),
                        column: float(value),
                    }
                )
        return rows
    if run.kind == "fashion_mnist":
        names, pixels = readers.images(inputs, prep["input_shape"])
        probs = run_model(model, pixels)
        k = min(cfg.top_k, probs.shape[1])
        rows = []
        for name, p in zip(names, probs, strict=True):
            for rank, index in enumerate(np.argsort(-p, kind="stable")[:k], start=1):
                rows.append(
                    {
                        "input": name,
                        **({"rank": rank} if k > 1 else {}),
                        "class": prep["class_names"][index],
                        "probability": float(p[index]),
                    }
                )
        return rows
    if run.kind == "imdb_raw":
        names, reviews = readers.texts(inputs, cfg.lines)
        probs = run_model(model, np.array(reviews, dtype=object))
    else:
        tokens_file = prep.get("input_tokens")
        fix = "It is written with preprocessing.json; train the run again."
        tokens = json_list(run.path / tokens_file, fix=fix) if tokens_file else None
        names, ids = readers.imdb_ids(inputs, prep, tokens, cfg.lines)
        probs = run_model(model, ids)
    positive = prep["class_names"][1]
    return [
        {"input": name, f"p({positive})": float(p[0]), "label": prep["class_names"][int(p[0] >= 0.5)]}
        for name, p in zip(names, probs, strict=True)
    ]


def run_model(model, inputs) -> np.ndarray:
    import keras
    import tensorflow as tf

    if inputs.dtype == object:  # strings: Keras' predict cannot batch them, the graph can
        return keras.ops.convert_to_numpy(model(tf.constant(inputs.astype(str)), training=False))
    return model.predict(inputs, batch_size=256, verbose=0)


def continue_lines(cfg: DictConfig, inputs: list[str]) -> list[dict]:
    """headlines: every non-empty line of the input files is a prompt for `seqexp generate`."""
    from seqexp.text.generate import continue_prompts, load_run

    _, prompts = readers.texts(inputs, lines=True)
    model, vocab = load_run(cfg.run, cfg.checkpoint)
    results = continue_prompts(model, vocab, prompts, cfg.words)
    return [
        {"prompt": r.prompt, "continuation": r.text if r.known else "", "unknown words": " ".join(r.unknown)}
        for r in results
    ]


def render(rows: list[dict], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    from rich.console import Console
    from rich.table import Table

    table = Table(*rows[0])
    for row in rows:
        table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row.values()))
    out = io.StringIO()
    Console(file=out, width=160).print(table)
    return out.getvalue()


def predict(cfg: DictConfig) -> list[dict]:
    """The `seqexp predict` job: print the predictions, or write them to `output`."""
    rows = predict_rows(cfg)
    text = render(rows, cfg.format)
    if cfg.output:
        write_text(Path(str(cfg.output)).expanduser(), text)
        log.info("Wrote %d prediction(s) to %s", len(rows), cfg.output)
    else:
        print(text, end="", flush=True)
    return rows
