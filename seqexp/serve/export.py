"""`seqexp export <run dir> format=saved_model|onnx|litert`: the run's serving model
(the dataset's preprocessing inside, seqexp.data.serving) through Keras' `model.export`, plus
export.json.

Each export goes to its own folder (default <run>/export/<format>/), written beside under a new
name and renamed into place, so a failed export never leaves half a model. Export deletes nothing
it did not write: an output that is the run directory (or holds it), an existing file, or a
folder with other files is refused; an earlier export is replaced only with overwrite=true.
Every format needs TensorFlow in the exporting process, whatever backend trained the run: a
machine without it (a JAX-only one) gets one refusal naming the run's backend.
- saved_model: raw inputs, text included (a text dataset takes strings); TensorFlow only;
- onnx (tf2onnx): raw numbers; text datasets take token ids (ONNX has no string ops);
- litert (TFLite builtins only, so the plain LiteRT interpreter runs it without TensorFlow's
  Flex ops): raw numbers, a fixed batch of 1 (recurrent layers only lower to builtins at a
  static shape); text datasets take token ids.
export.json says the input's name, dtype and shape, what is done inside the graph and what the
caller must do first, and what the output means (class names, target and unit), in the words of
the dataset's module.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from omegaconf import DictConfig

from seqexp.atomic import write_text
from seqexp.data.serving import class_path
from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)

FORMATS = {"saved_model": "saved_model", "onnx": "model.onnx", "litert": "model.tflite"}
MARK = "seqexp export"  # export.json's written_by: who made the folder
KERAS_FORMATS = {"saved_model": "tf_saved_model", "onnx": "onnx", "litert": "litert"}
# Why each format needs TensorFlow in the exporting process, whatever backend trained the run
# (`seqexp export` loads the checkpoint on TensorFlow's Keras)
NEEDS_TENSORFLOW = {
    "saved_model": "a SavedModel is TensorFlow's own format",
    "litert": "Keras converts to LiteRT with TensorFlow's converter",
    "onnx": "seqexp converts to ONNX with tf2onnx, which runs on TensorFlow",
}
NEEDS = {  # format -> (module, what to install)
    "onnx": ("tf2onnx", "pip install 'seqexp[onnx]' (tf2onnx and onnxruntime)"),
}


def describe(run, fmt: str, model) -> dict:
    """export.json: the exported model's contract for a caller without seqexp."""
    serving = run.serving
    spec = model.inputs[0]
    batch = 1 if fmt == "litert" else None
    words = serving.describe(text=spec.dtype == "string")
    info = {
        "format": fmt,
        "file": FORMATS[fmt],
        "written_by": MARK,
        "run": run.path.name,
        "serving": class_path(serving),
        "task": serving.task,
        "input": {
            "name": spec.name,
            "dtype": str(spec.dtype),
            "shape": [batch, *spec.shape[1:]],
            "meaning": words["input"],
        },
        "output": {"shape": [batch, *model.outputs[0].shape[1:]], **words["output"]},
        "inside": words["inside"],
    }
    if words.get("outside"):
        info["outside"] = words["outside"]
    return info


def check_output(out: Path, run_dir: Path, overwrite: bool) -> None:
    """Refuse an output that would destroy what export did not write: the run directory or a
    folder holding it, an existing file, a non-empty folder without export's own export.json
    (and, without overwrite=true, any earlier export)."""
    resolved, run = out.resolve(), run_dir.resolve()
    if resolved == run or resolved in run.parents:
        raise SeqexpError(
            f"output={out} is {'the run directory' if resolved == run else 'a folder holding the run'} "
            f"{run_dir}: the export would replace it. Give a new folder, e.g. "
            f"output={run_dir}/export/<format> (the default) or output=serving/<name>."
        )
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir() or out.is_symlink():
        raise SeqexpError(
            f"output={out} exists and is not a folder that seqexp export wrote; export never replaces "
            f"it. Give a new folder path."
        )
    if not any(out.iterdir()):
        return  # an empty folder: nothing to lose
    if not is_export(out):
        raise SeqexpError(
            f"output={out} is a folder that holds files seqexp export did not write (it has no "
            f"export.json of an export); export never deletes them. Give a new folder path."
        )
    if not overwrite:
        raise SeqexpError(
            f"output={out} holds an earlier export; pass overwrite=true to replace it, or give a "
            f"new folder path."
        )


def is_export(folder: Path) -> bool:
    """Whether `folder` is one that export wrote: its export.json names a format and its file."""
    try:
        info = json.loads((folder / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    fmt = info.get("format") if isinstance(info, dict) else None
    return isinstance(fmt, str) and fmt in FORMATS and info.get("file") == FORMATS[fmt]


def export(cfg: DictConfig) -> Path:
    """The `seqexp export` job: write <output>/<file> and <output>/export.json; return the folder."""
    from seqexp.serve.model import check_run_dir, load_run, make_parent, serving_model

    if cfg.get("run") is None:
        raise SeqexpError(
            "seqexp export needs a run directory, as its first argument: `seqexp export <run dir> "
            "format=onnx` (e.g. seqexp export outputs/<date>/<time>_<data>_<model> format=onnx)."
        )
    fmt = cfg.format
    if fmt not in FORMATS:
        raise SeqexpError(f"format={fmt!r} is not allowed; choose one of {list(FORMATS)}.")
    overwrite = cfg.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise SeqexpError(f"overwrite={overwrite!r} must be true or false.")
    run_dir = check_run_dir(cfg.run)
    refuse_without_tensorflow(fmt, run_dir)
    out = Path(str(cfg.output)).expanduser() if cfg.output else run_dir / "export" / fmt
    check_output(out, run_dir, overwrite)
    make_parent(out)
    if fmt in NEEDS:
        module, install = NEEDS[fmt]
        try:
            __import__(module)
        except ImportError as err:
            raise SeqexpError(
                f"format={fmt} needs the {module} converter, which cannot be imported ({err}); {install}."
            ) from None
    run = load_run(run_dir, cfg.checkpoint)
    model = serving_model(run, text=fmt == "saved_model")
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))  # ours alone
    except OSError as err:
        err.filename = str(out)  # the user's output, not the hidden staging name it was to be
        raise
    try:
        write(model, fmt, staging / FORMATS[fmt])
        info = describe(run, fmt, model)
        for name in run.serving.caller_files:
            if "outside" in info and (run.path / name).exists():
                shutil.copy(run.path / name, staging / name)  # what the caller needs to make ids
        write_text(staging / "export.json", json.dumps(info, ensure_ascii=False, indent=1) + "\n")
        check_output(out, run_dir, overwrite)  # again: files may have appeared there meanwhile
        put_in_place(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("Exported %s (%s) to %s", run.path, fmt, out)
    print(out / FORMATS[fmt])
    return out


def refuse_without_tensorflow(fmt: str, run_dir: Path) -> None:
    """Refuse, before anything is loaded or written, an export on a machine without TensorFlow
    (a JAX-only one): every format is written through TensorFlow here (NEEDS_TENSORFLOW)."""
    from seqexp import backend
    from seqexp.run.environment import read_env

    if backend.installed("tensorflow"):
        return
    trained_on = (read_env(run_dir) or {}).get("backend") or backend.DEFAULT
    raise SeqexpError(
        f"format={fmt} needs TensorFlow, and TensorFlow is not installed here: "
        f"{NEEDS_TENSORFLOW[fmt]}, whatever backend trained the run. This run was trained with "
        f"trainer.backend={trained_on}; its checkpoint (.keras) is backend-neutral and exports in "
        f"every format ({', '.join(FORMATS)}) where TensorFlow is installed: `pip install "
        f"tensorflow` here (seqexp's default install has it), or copy the run directory to a "
        f"machine that has it and run `seqexp export <run dir> format={fmt}` there."
    )


def put_in_place(staging: Path, out: Path) -> None:
    """Rename the finished export to `out`; an earlier export there (checked by check_output) is
    moved aside first and deleted only once the new one is in place."""
    old = None
    if out.is_dir() and any(out.iterdir()):
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
    elif out.is_dir():
        out.rmdir()  # empty
    try:
        os.replace(staging, out)
    except OSError:
        if old is not None:
            os.replace(old / out.name, out)  # put the earlier export back
        raise
    finally:
        if old is not None and out.exists():
            shutil.rmtree(old, ignore_errors=True)


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
