"""docs/extending.md, done exactly as it says: a dataset and a model builder added as two modules
and two YAML files in a copy of the package, trained for one epoch, and their bad values refused
by name before TensorFlow loads. The files are read from the page, so the page cannot go stale."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

PAGE = PROJECT_ROOT / "docs" / "extending.md"


def page_files() -> dict[str, str]:
    """{path: text} of every code block of the page whose first line is `# file: <path>`."""
    blocks = re.findall(r"```(?:python|yaml)\n# file: (\S+)\n(.*?)```", PAGE.read_text(), re.S)
    return {path: text for path, text in blocks}


@pytest.fixture(scope="module")
def extended(tmp_path_factory) -> Path:
    """A copy of the seqexp package (its config tree inside) with the page's four files added."""
    root = tmp_path_factory.mktemp("extended")
    shutil.copytree(PROJECT_ROOT / "seqexp", root / "seqexp", ignore=shutil.ignore_patterns("__pycache__"))
    files = page_files()
    assert sorted(files) == [
        "conf/data/sine.yaml",
        "conf/model/linear.yaml",
        "seqexp/data/sine.py",
        "seqexp/models/linear.py",
    ]
    for path, text in files.items():
        target = root / "seqexp" / path if path.startswith("conf/") else root / path
        assert not target.exists(), f"{path} exists already: the page must add, never edit"
        target.write_text(text)
    return root


def seqexp(root: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root), "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, "-m", "seqexp.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def sine_run(extended, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The page's dataset and model trained for one epoch by `seqexp train`."""
    run = tmp_path_factory.mktemp("sine") / "run"
    result = seqexp(
        extended,
        "train",
        "data=sine",
        "model=linear",
        "trainer.epochs=1",
        "trainer.batch_size=16",
        "trainer.verbose=0",
        "callbacks.tensorboard.enabled=false",
        f"hydra.run.dir={run}",
        cwd=run.parent,
    )
    return run, result


@pytest.mark.slow  # real processes or several trainings: make test-slow
def test_the_new_dataset_and_model_train_one_epoch(extended, sine_run, tmp_path):
    run, result = sine_run
    assert result.returncode == 0, result.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["data"] == "sine" and metrics["model"] == "linear"
    assert metrics["data_info"]["windows"] == {"train": 180, "val": 180, "test": 180}  # 200 rows - 20
    assert metrics["epochs_run"] == 1 and metrics["test"]["mae"] > 0
    assert "head (Dense)" in (run / "model_summary.txt").read_text()
    help_text = seqexp(extended, "train", "--help", cwd=tmp_path).stdout
    assert "data: fashion-mnist, headlines, imdb, imdb-raw, jena, sine" in help_text


@pytest.mark.slow
def test_the_new_dataset_predicts_and_exports(extended, sine_run, tmp_path):
    """The page's SineServing is all predict and export need: forecasts equal the checkpoint's
    output on windows cut here, and the exported SavedModel gives the same numbers."""
    import keras
    import numpy as np
    import tensorflow as tf

    run, trained = sine_run
    assert trained.returncode == 0, trained.stderr
    assert json.loads((run / "serving.json").read_text())["serving"] == "seqexp.data.sine.SineServing"
    wave = np.sin(np.arange(30) / 5).astype("float32")
    (tmp_path / "wave.txt").write_text("\n".join(f"{v:.6f}" for v in wave) + "\n")
    predicted = seqexp(extended, "predict", str(run), "input=wave.txt", "format=json", cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    rows = json.loads(predicted.stdout)
    assert [r["input"] for r in rows] == [f"wave.txt:{end}" for end in range(20, 31)]
    windows = np.stack(
        [np.loadtxt(tmp_path / "wave.txt", dtype="float32")[e - 20 : e] for e in range(20, 31)]
    )
    model = keras.models.load_model(run / "checkpoints" / "best.keras", compile=False)
    expected = model.predict(windows[..., None], verbose=0)[:, 0]
    np.testing.assert_allclose([r["wave"] for r in rows], expected, atol=1e-5)

    exported = seqexp(extended, "export", str(run), "format=saved_model", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    folder = run / "export" / "saved_model"
    assert exported.stdout.strip() == str(folder / "saved_model")
    loaded = tf.saved_model.load(str(folder / "saved_model"))
    np.testing.assert_allclose(loaded.serve(windows[..., None]).numpy()[:, 0], expected, atol=1e-5)
    info = json.loads((folder / "export.json").read_text())
    assert info["input"]["shape"] == [None, 20, 1] and info["output"]["meaning"] == "the predicted value"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["data.noise=-1"], "data.noise=-1 must be a number of at least 0."),
        (["data.rows=30"], "data.rows=30 must be at least 3 x (data.lookback + 1) = 63."),
        (["model.l2=fast"], "model.l2=fast must be a number of at least 0."),
        (
            ["+data.nois=0.2"],
            "data.nois=0.2 is not a key of data; its keys are rows, period, noise, lookback",
        ),
    ],
)
def test_bad_values_of_the_new_options_are_refused_before_tensorflow(extended, tmp_path, overrides, message):
    probe = (
        "import sys\nfrom seqexp.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    print('EXIT', e.code)\n"
        "print('TF' if 'tensorflow' in sys.modules else 'NO-TF')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(extended)}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            probe,
            "train",
            "data=sine",
            "model=linear",
            *overrides,
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.stdout.split()[-2:] == ["2", "NO-TF"] or out.stdout.split()[-3:] == ["EXIT", "2", "NO-TF"], (
        out.stdout + out.stderr
    )
    assert f"seqexp: error: {message}" in out.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()


@pytest.mark.slow  # real processes or several trainings: make test-slow
def test_a_model_that_cannot_read_the_new_data_is_named(extended, tmp_path):
    result = seqexp(
        extended, "train", "data=sine", "model=cnn", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "model=cnn cannot take the timeseries input of data=sine" in result.stderr
    assert "linear" in result.stderr  # the new builder is offered among the models that can
