"""trainer.backend=jax: a JAX run trains every dataset family without importing TensorFlow, is
deterministic, resumes exactly after a kill, and is never continued on another backend; torch is
refused; a machine without TensorFlow is refused an export in one paragraph.

Keras picks its backend once per process, so every JAX training runs in a subprocess (this test
process has TensorFlow's Keras); each script asserts `"tensorflow" not in sys.modules` at its end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from seqexp.config import CONF_DIR
from tests.conftest import PROJECT_ROOT, compose_train

PRESETS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))


def run_python(script: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# A machine without TensorFlow (a JAX-only one), simulated: this sitecustomize, first on the
# PYTHONPATH of a process and of every process it starts, makes `import tensorflow` (and any
# submodule) fail as a missing package does, and importlib.util.find_spec raise it.
NO_TENSORFLOW = """
import sys

class NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoTensorFlow())
"""


def without_tensorflow(folder: Path) -> dict:
    """Environment variables for a process that cannot import TensorFlow (NO_TENSORFLOW)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(NO_TENSORFLOW)
    return {"PYTHONPATH": f"{folder}{os.pathsep}{PROJECT_ROOT}"}


def seqexp(*args: str, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "seqexp.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


TRAIN_JAX = """
import json, os, sys
from pathlib import Path
from seqexp import backend
backend.choose("jax")
from seqexp.run.train import train
from tests.conftest import compose_train, TINY_JENA
from seqexp.data.synthetic import synthetic_weather, write_jena_csv
from tests.data.imdb_files import write_sentiment_npz
from tests.data.test_fashion_mnist import write_fashion
from tests.data.test_headlines import write_articles

root = Path(sys.argv[1])
os.chdir(root)  # MLflow puts a SQLite store's artifacts in ./mlruns
jena = write_jena_csv(root / "jena.csv", synthetic_weather(1800, seed=7))
imdb = write_sentiment_npz(root / "imdb")
(root / "fashion").mkdir()
write_fashion(root / "fashion", n_train=60, n_test=20)
news = write_articles(root / "news" / "ArticlesJan2017.csv",
                      [f"dogs chase cats number {i % 7} again" for i in range(40)])
ONE = ["trainer.epochs=1", "trainer.batch_size=8", "trainer.steps_per_epoch=2",
       "trainer.validation_steps=2", "trainer.test_steps=2", "trainer.backend=jax"]
RUNS = {
    "jena": ["data=jena", f"data.path={jena}", "model=gru", "model.units=4", *TINY_JENA],
    "imdb": ["data=imdb", f"data.path={imdb}", "data.maxlen=20", "model=lstm", "model.units=4"],
    "fashion": ["data=fashion-mnist", f"data.path={root / 'fashion'}", "model=cnn", "model.filters=[4]"],
    "headlines": ["experiment=headlines_text_lstm", f"data.path={news}", "model.units=4"],
    "mlflow": ["experiment=smoke", "logger=mlflow", f"logger.tracking_uri=sqlite:///{root}/mlflow.db"],
}
out = {}
for name, overrides in RUNS.items():
    run_dir = root / name
    train(compose_train(run_dir, *overrides, *ONE))
    out[name] = {"record": json.loads((run_dir / "metrics.json").read_text()),
                 "env": json.loads((run_dir / "env.json").read_text())}
assert "tensorflow" not in sys.modules, "a JAX run imported TensorFlow"
print("RESULT" + json.dumps(out))
"""


def result(proc: subprocess.CompletedProcess):
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


@pytest.mark.slow
def test_every_dataset_family_trains_on_jax_without_tensorflow(tmp_path):
    runs = result(run_python(TRAIN_JAX.replace("sys.argv[1]", repr(str(tmp_path)))))
    assert set(runs) == {"jena", "imdb", "fashion", "headlines", "mlflow"}
    for name, run in runs.items():
        assert run["record"]["status"] == "completed", (name, run["record"])
        assert run["record"]["epochs_run"] == 1
        assert run["env"]["backend"] == "jax" and run["record"]["env"]["backend"] == "jax"
        assert run["env"]["xla"] is True  # JAX never runs op by op
        assert all(isinstance(v, float) for v in run["record"]["test"].values()), name


# Three epochs of tiny Jena on JAX, a backup after every epoch; KILL_AFTER: SIGKILL after that epoch.
JENA_JAX = """
import os, signal, sys
from pathlib import Path
from seqexp import backend
backend.choose("jax")
import keras
from seqexp.run.train import train
from tests.conftest import compose_train, TINY_JENA
from seqexp.data.synthetic import synthetic_weather, write_jena_csv

root, names, kill_after = Path(ROOT), NAMES, KILL_AFTER
csv = root / "jena.csv"
if not csv.exists():
    write_jena_csv(csv, synthetic_weather(1800, seed=7))

class Kill(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

for name in names:
    cfg = compose_train(root / name, "data=jena", f"data.path={csv}", "model=gru", "model.units=4",
                        *TINY_JENA, "trainer.epochs=3", "trainer.backend=jax",
                        "callbacks.backup.every_s=0", "callbacks.tensorboard.enabled=true",
                        "callbacks.early_stopping.enabled=false")
    train(cfg, more_callbacks=(lambda monitor: [Kill()]) if kill_after else None)
assert "tensorflow" not in sys.modules, "a JAX run imported TensorFlow"
"""


def jena_jax(root: Path, names: list[str], kill_after: int = 0) -> subprocess.CompletedProcess:
    script = JENA_JAX.replace("ROOT", repr(str(root))).replace("NAMES", repr(names))
    return run_python(script.replace("KILL_AFTER", str(kill_after)))


def history(run_dir: Path) -> list[list[float]]:
    lines = (run_dir / "history.csv").read_text().splitlines()
    return [[float(v) for v in line.split(",")] for line in lines[1:]]


def column(run_dir: Path, name: str) -> list[float]:
    header = (run_dir / "history.csv").read_text().splitlines()[0].split(",")
    return [row[header.index(name)] for row in history(run_dir)]


@pytest.mark.slow
def test_jax_runs_are_deterministic_resume_exactly_and_log_to_tensorboard(tmp_path):
    done = jena_jax(tmp_path, ["a", "b"])  # two runs of one seed, one after the other
    assert done.returncode == 0, done.stderr[-4000:]
    a, b = history(tmp_path / "a"), history(tmp_path / "b")
    assert len(a) == 3 and a == b

    killed = jena_jax(tmp_path, ["c"], kill_after=2)
    assert killed.returncode == -signal.SIGKILL
    assert len(history(tmp_path / "c")) == 2
    resumed = jena_jax(tmp_path, ["c"])
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    assert json.loads((tmp_path / "c" / "metrics.json").read_text())["resumed_after_epoch"] == 2
    c = history(tmp_path / "c")
    assert len(c) == 3
    for row_a, row_c in zip(a, c, strict=True):
        assert row_c == pytest.approx(row_a, abs=1e-5)

    # TensorBoard's own reader reads the epoch curves and the HParams row back
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    board = tmp_path / "a" / "tensorboard"
    train_log = EventAccumulator(str(board / "train")).Reload()
    losses = [float(tensor_util.make_ndarray(e.tensor_proto)) for e in train_log.Tensors("epoch_loss")]
    assert losses == pytest.approx(column(tmp_path / "a", "loss"), rel=1e-6)
    val_log = EventAccumulator(str(board / "validation")).Reload()
    assert len(val_log.Tensors("epoch_loss")) == 3
    top = EventAccumulator(str(board)).Reload()
    tags = top.Tags()["tensors"]
    assert "_hparams_/session_start_info" in tags and "_hparams_/session_end_info" in tags
    assert any(t.startswith("test/") for t in tags)


def test_a_run_is_never_continued_on_another_backend(tmp_path):
    from seqexp.errors import NotThisRun
    from seqexp.run.identity import config_identity, read_identity, refuse_other_config, write_identity

    jax_cfg = compose_train(tmp_path / "run", "trainer.backend=jax")
    tf_cfg = compose_train(tmp_path / "run")
    (tmp_path / "run").mkdir()
    write_identity(tmp_path / "run", config_identity(jax_cfg), [])
    with pytest.raises(NotThisRun, match=r"trainer\.backend: 'jax' there, 'tensorflow' here"):
        refuse_other_config(tmp_path / "run", read_identity(tmp_path / "run"), config_identity(tf_cfg))
    # runs written before trainer.backend existed (all TensorFlow) keep their identity
    assert "trainer.backend" not in config_identity(tf_cfg)
    assert config_identity(jax_cfg)["trainer.backend"] == "jax"


def test_an_unknown_backend_is_refused_by_name(make_cfg):
    from seqexp.config.checks import check
    from seqexp.errors import SeqexpError

    with pytest.raises(SeqexpError, match="trainer.backend") as err:
        check(make_cfg("trainer.backend=torch"))
    assert "jax" in str(err.value) and "tensorflow" in str(err.value)


@pytest.mark.slow  # starts a process
def test_torch_is_refused_from_the_command_line_naming_the_backends_allowed(tmp_path):
    """PyTorch is not a backend of seqexp (not tested, not installed in CI): `trainer.backend=torch`
    is one `seqexp: error:` paragraph, exit 2, before any backend loads (TensorFlow absent here)."""
    run = f"hydra.run.dir={tmp_path / 'run'}"  # not the project's outputs/
    done = seqexp("train", "trainer.backend=torch", run, env=without_tensorflow(tmp_path / "no_tf"))
    assert done.returncode == 2
    assert done.stderr.strip() == "seqexp: error: trainer.backend=torch must be one of tensorflow, jax."


def test_an_export_without_tensorflow_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    """The refusal's words and place (the real missing package: the slow smoke test above)."""
    from omegaconf import OmegaConf

    from seqexp import backend
    from seqexp.errors import SeqexpError
    from seqexp.serve.export import export

    run = tmp_path / "run"
    run.mkdir()
    (run / "env.json").write_text(json.dumps({"backend": "jax"}))
    monkeypatch.setattr(backend, "installed", lambda name: name != "tensorflow")
    cfg = OmegaConf.create(
        {"run": str(run), "format": "litert", "output": None, "overwrite": False, "checkpoint": None}
    )
    with pytest.raises(SeqexpError) as err:
        export(cfg)
    message = str(err.value)
    assert message.startswith("format=litert needs TensorFlow, and TensorFlow is not installed here")
    assert "LiteRT with TensorFlow's converter" in message and "trainer.backend=jax" in message
    assert sorted(p.name for p in run.iterdir()) == ["env.json"]  # no export folder made
    (run / "env.json").unlink()  # a run from before trainer.backend: TensorFlow trained it
    with pytest.raises(SeqexpError, match="trained with trainer.backend=tensorflow"):
        export(OmegaConf.merge(cfg, {"format": "saved_model"}))
    monkeypatch.setattr(backend, "installed", lambda name: True)
    with pytest.raises(SeqexpError, match="has no serving.json"):  # with TensorFlow: on to the run
        export(cfg)


def test_tf_distribute_settings_are_refused_on_jax(make_cfg):
    from seqexp.config.checks import check
    from seqexp.errors import SeqexpError

    with pytest.raises(SeqexpError, match="trainer.strategy=mirrored needs tf.distribute") as err:
        check(make_cfg("trainer.backend=jax", "trainer.strategy=mirrored", "trainer.cpu_devices=2"))
    assert "trainer.cpu_devices=2" in str(err.value)


def test_jax_in_a_tensorflow_process_is_refused_naming_both(make_cfg):
    import keras

    from seqexp.errors import SeqexpError
    from seqexp.run.train import train

    assert keras.backend.backend() == "tensorflow"
    with pytest.raises(SeqexpError, match="trainer.backend=jax.*tensorflow backend"):
        train(make_cfg("trainer.backend=jax"))


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_composes_with_jax(preset):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment={preset}", "trainer.backend=jax"])
    assert cfg.trainer.backend == "jax"


@pytest.mark.slow
def test_smoke_trains_on_jax_from_the_command_line(tmp_path):
    run_dir = tmp_path / "smoke"
    done = seqexp(
        "train", "experiment=smoke", "trainer.backend=jax", "trainer.verbose=0", f"hydra.run.dir={run_dir}"
    )
    assert done.returncode == 0, done.stderr[-4000:]
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "completed" and record["epochs_run"] == 3
    assert record["env"]["backend"] == "jax"
    # the run's .keras checkpoint serves from a TensorFlow process: predict, and export to ONNX
    sample = PROJECT_ROOT / "seqexp" / "samples" / "jena_synthetic_sample.csv"
    predicted = seqexp("predict", f"run={run_dir}", f"input={sample}", "format=json")
    assert predicted.returncode == 0, predicted.stderr[-4000:]
    exported = seqexp("export", f"run={run_dir}", "format=onnx")
    assert exported.returncode == 0, exported.stderr[-4000:]
    assert (run_dir / "export" / "onnx" / "model.onnx").stat().st_size > 0
    # on a machine without TensorFlow, export refuses every format in one paragraph naming the
    # run's backend and the formats, and writes nothing
    bare = without_tensorflow(tmp_path / "no_tf")
    for fmt in ("saved_model", "litert", "onnx"):
        refused = seqexp("export", f"run={run_dir}", f"format={fmt}", f"output={tmp_path / fmt}", env=bare)
        assert refused.returncode == 2, refused.stderr[-4000:]
        message = refused.stderr.strip()
        assert message.startswith(f"seqexp: error: format={fmt} needs TensorFlow") and "\n" not in message
        assert "trainer.backend=jax" in message and "(saved_model, onnx, litert)" in message
        assert "pip install tensorflow" in message and not (tmp_path / fmt).exists()


@pytest.mark.slow
def test_a_sweep_over_backends_runs_each_job_on_its_own(tmp_path, capsys):
    """One joblib worker (loky reuses it) loads Keras on TensorFlow for the first job; the JAX job
    then runs in a fresh process (Keras cannot switch), and both are recorded with their backend."""
    done = seqexp(
        "train", "-m", "experiment=smoke", "trainer.backend=tensorflow,jax", "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=1", "trainer.epochs=1",
        "trainer.steps_per_epoch=2", "trainer.validation_steps=2", "trainer.test_steps=2",
        "trainer.verbose=0", f"hydra.sweep.dir={tmp_path}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    backends = sorted(json.loads(p.read_text())["env"]["backend"] for p in tmp_path.glob("*/metrics.json"))
    assert backends == ["jax", "tensorflow"]
    # `seqexp runs` has a backend column, `seqexp diff` names the key and the environment fact
    from seqexp.cli import main

    assert main(["runs", str(tmp_path), "--format", "json"]) == 0
    assert sorted(row["backend"] for row in json.loads(capsys.readouterr().out)) == ["jax", "tensorflow"]
    first, second = sorted(p for p in tmp_path.iterdir() if (p / "metrics.json").exists())
    assert main(["diff", str(first), str(second), "--format", "json", "--plot", str(tmp_path / "d.png")]) == 0
    parts = json.loads(capsys.readouterr().out)
    assert {"key": "trainer.backend", "a": "tensorflow", "b": "jax"} in parts["config"]
    assert {"key": "backend", "a": "tensorflow", "b": "jax"} in parts["environment"]
