"""`seqexp export run=<run dir> format=saved_model|onnx|litert`: the run's serving model
(seqexp.serve.model, preprocessing inside) through Keras' `model.export`, plus export.json.

Each export goes to its own folder (default <run>/export/<format>/), written beside and renamed
into place, so a failed export never leaves half a model:
- saved_model: raw inputs, text included (imdb-raw takes review strings); TensorFlow only;
- onnx (tf2onnx): raw numbers; imdb-raw takes token ids (ONNX has no string ops);
- litert (TFLite builtins only, so the plain LiteRT interpreter runs it without TensorFlow's
  Flex ops): raw numbers, a fixed batch of 1 (recurrent layers only lower to builtins at a
  static shape); imdb-raw takes token ids.
export.json says the input's name, dtype and shape, what is done inside the graph and what the
caller must do first, and what the output means (class names, target and unit).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from omegaconf import DictConfig

from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)

FORMATS = {"saved_model": "saved_model", "onnx": "model.onnx", "litert": "model.tflite"}
KERAS_FORMATS = {"saved_model": "tf_saved_model", "onnx": "onnx", "litert": "litert"}
NEEDS = {  # format -> (module, what to install)
    "onnx": ("tf2onnx", "pip install 'seqexp[onnx]' (tf2onnx and onnxruntime)"),
}


def describe(run, fmt: str, model) -> dict:
    """export.json: the exported model's contract for a caller without seqexp."""
    prep = run.prep
    spec = model.inputs[0]
    batch = 1 if fmt == "litert" else None
    info = {
        "format": fmt,
        "file": FORMATS[fmt],
        "run": run.path.name,
        "data": prep["kind"],
        "task": prep["task"],
        "input": {"name": spec.name, "dtype": str(spec.dtype), "shape": [batch, *spec.shape[1:]]},
        "output": {"shape": [batch, *model.outputs[0].shape[1:]]},
    }
    kind = prep["kind"]
    if kind == "jena":
        info["input"]["meaning"] = (
            f"{prep['input_shape'][0]} rows of {prep['features']} in their "
            f"own units, every {prep['step']}th row of the Jena CSV, oldest "
            f"first"
        )
        info["inside"] = [
            "(x - training mean) / training std per column",
            *(["window reversed (newest first)"] if prep["reverse"] else []),
            "the model",
            "x * std + mean of the target",
        ]
        info["output"].update(
            target=prep["target"],
            unit=prep["target"].split("(")[-1].rstrip(")"),
            meaning=f"{prep['target']} {prep['horizon_rows']} rows (10 min each) after the window's last row",
        )
    elif kind == "fashion_mnist":
        info["input"]["meaning"] = "grey pixels 0..255, images resized to 28x28, white object on black"
        info["inside"] = [f"x / {prep['scale']}", "the model"]
        info["output"].update(class_names=prep["class_names"], meaning="probability of each class")
    elif kind in ("imdb", "imdb_raw"):
        if model.inputs[0].dtype == "string":
            info["input"]["meaning"] = "review texts"
            info["inside"] = [
                f"TextVectorization (standardize={prep['standardize']})",
                f"pad_sequences(maxlen={prep['maxlen']}, padding={prep['padding']}, "
                f"truncating={prep['truncating']})",
                "the model",
            ]
        else:
            info["input"]["meaning"] = (
                f"token ids, {prep['maxlen']} per review, padded with 0 "
                f"({prep['padding']}) and truncated ({prep['truncating']})"
            )
            info["outside"] = (
                f"ids: line i of vocabulary.txt is token i - 1, text standardized as {prep['standardize']}"
                if kind == "imdb_raw"
                else f"ids: word rank + {prep['index_from']}, start mark {prep['start_char']} first, "
                f"ranks outside [{prep['skip_top']}, {prep['num_words']}) become {prep['oov_char']}"
            )
            info["inside"] = ["the model"]
        info["output"].update(
            class_names=prep["class_names"], meaning=f"probability of {prep['class_names'][1]!r}"
        )
    elif kind == "headlines":
        info["input"]["meaning"] = (
            f"the ids of a prompt's words, front-padded with 0 to {prep['input_shape'][0]}"
        )
        info["outside"] = (
            f"ids: a word's index in vocabulary.json's tokens, after its preprocessing "
            f"{prep['preprocessing']}"
        )
        info["inside"] = ["the model"]
        info["output"]["meaning"] = "probability of each token of vocabulary.json as the next word"
    return info


def export(cfg: DictConfig) -> Path:
    """The `seqexp export` job: write <output>/<file> and <output>/export.json; return the folder."""
    from seqexp.serve.model import load_run, serving_model

    if cfg.get("run") is None:
        raise SeqexpError(
            "seqexp export needs run=...: e.g. seqexp export run=outputs/<date>/<time>_jena_gru format=onnx."
        )
    fmt = cfg.format
    if fmt not in FORMATS:
        raise SeqexpError(f"format={fmt!r} is not allowed; choose one of {list(FORMATS)}.")
    if fmt in NEEDS:
        module, install = NEEDS[fmt]
        try:
            __import__(module)
        except ImportError as err:
            raise SeqexpError(
                f"format={fmt} needs the {module} converter, which cannot be imported ({err}); {install}."
            ) from None
    run = load_run(cfg.run, cfg.checkpoint)
    model = serving_model(run, text=fmt == "saved_model")
    out = Path(str(cfg.output)).expanduser() if cfg.output else run.path / "export" / fmt
    staging = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        write(model, fmt, staging / FORMATS[fmt])
        info = describe(run, fmt, model)
        for name in ("vocabulary.txt", "input_tokens.json", "vocabulary.json"):
            if "outside" in info and (run.path / name).exists():
                shutil.copy(run.path / name, staging / name)  # what the caller needs to make ids
        (staging / "export.json").write_text(json.dumps(info, ensure_ascii=False, indent=1) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("Exported %s (%s) to %s", run.path, fmt, out)
    print(out / FORMATS[fmt])
    return out


def write(model, fmt: str, path: Path) -> None:
    import keras
    import tensorflow as tf

    spec = model.inputs[0]
    batch = 1 if fmt == "litert" else None
    options = {"input_signature": [keras.InputSpec(shape=(batch, *spec.shape[1:]), dtype=spec.dtype)]}
    if fmt == "litert":
        options["target_spec"] = {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}
    try:
        model.export(str(path), format=KERAS_FORMATS[fmt], verbose=False, **options)
    except Exception as err:  # a layer the converter cannot express: say which format and why
        raise SeqexpError(
            f"Keras could not export this model as {fmt}: {type(err).__name__}: "
            f"{str(err).splitlines()[0][:400]}"
        ) from None
