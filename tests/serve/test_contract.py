"""The serving contract: seqexp/serve asks the dataset's own module and names none; a run's
serving.json names its class, imported only if it is a Serving; older runs still serve."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from seqexp.config import CONF_DIR
from seqexp.data.serving import load_serving
from seqexp.errors import SeqexpError
from seqexp.serve.export import export
from seqexp.serve.predict import predict
from tests.conftest import PROJECT_ROOT
from tests.serve.conftest import as_legacy
from tests.serve.test_jena import compose_cmd


def test_serve_and_its_commands_name_no_dataset():
    names = {path.stem for path in (CONF_DIR / "data").glob("*.yaml")}
    names |= {name.replace("-", "_") for name in names} | {name.split("-")[0] for name in names}
    assert {"jena", "imdb", "imdb_raw", "fashion", "headlines"} <= names
    pattern = re.compile("|".join(sorted(map(re.escape, names))), re.IGNORECASE)
    files = [*(PROJECT_ROOT / "seqexp" / "serve").glob("*.py")]
    files += [PROJECT_ROOT / "seqexp" / "cli" / "predict.py", PROJECT_ROOT / "seqexp" / "cli" / "export.py"]
    found = [f"{f.name}: {m.group()}" for f in files for m in pattern.finditer(f.read_text())]
    assert found == []


@pytest.mark.parametrize(
    ("serving", "message"),
    [
        ("subprocess.Popen", "its 'serving' subprocess.Popen is not a seqexp.data.serving.Serving"),
        ("os.path", "its 'serving' os.path is not a seqexp.data.serving.Serving"),
        ("no_such_package.Thing", "names the dataset class no_such_package.Thing, which cannot be imported"),
        ("__import__('os')", "is not a dotted Python name"),
    ],
)
def test_a_record_naming_anything_but_a_serving_class_is_refused(tmp_path, serving, message):
    (tmp_path / "serving.json").write_text(json.dumps({"version": 1, "serving": serving}))
    with pytest.raises(SeqexpError, match=re.escape(message)):
        load_serving(tmp_path)


def test_a_record_from_a_newer_seqexp_or_with_wrong_facts_is_named(tmp_path):
    record = {"version": 2, "serving": "seqexp.data.fashion_mnist.FashionServing", "scale": 255}
    (tmp_path / "serving.json").write_text(json.dumps(record))
    with pytest.raises(SeqexpError, match=r"is version 2, written by a newer seqexp"):
        load_serving(tmp_path)
    (tmp_path / "serving.json").write_text(json.dumps({**record, "version": 1, "scale": "big"}))
    with pytest.raises(SeqexpError, match=r"serving.json is damaged or was edited by hand: scale: "):
        load_serving(tmp_path)


def test_an_older_jena_run_predicts_and_exports_as_before(jena_run, new_rows, tmp_path):
    old = as_legacy(jena_run, tmp_path / "old")
    assert not (old / "serving.json").exists() and (old / "preprocessing.json").exists()
    expected = predict(compose_cmd("predict", f"run={jena_run}", f"input={new_rows}", "format=csv"))
    got = predict(compose_cmd("predict", f"run={old}", f"input={new_rows}", "format=csv"))
    assert [r["forecast_for"] for r in got] == [r["forecast_for"] for r in expected]
    np.testing.assert_allclose([r["T (degC)"] for r in got], [r["T (degC)"] for r in expected], atol=1e-6)
    out = export(compose_cmd("export", f"run={old}", "format=saved_model"))
    info = json.loads((out / "export.json").read_text())
    assert info["output"]["unit"] == "degC" and info["input"]["shape"] == [None, 80, 14]


def test_every_dataset_module_declares_how_its_model_reads_new_input():
    """Each conf/data/<name>.yaml's loader module defines a Serving with a reader of its own, and
    the loader hands it to the spec (the module's source passes `serving=` to DataSpec)."""
    import importlib
    import inspect

    from omegaconf import OmegaConf

    from seqexp.data.serving import Serving

    for path in sorted((CONF_DIR / "data").glob("*.yaml")):
        module = importlib.import_module(OmegaConf.load(path)._target_.rsplit(".", 1)[0])
        declared = [
            c
            for c in vars(module).values()
            if isinstance(c, type) and issubclass(c, Serving) and c.__module__ == module.__name__
        ]
        assert len(declared) == 1, path.name
        assert declared[0].read is not Serving.read or declared[0].batches is not Serving.batches, path.name
        assert "serving=" in inspect.getsource(module), path.name
