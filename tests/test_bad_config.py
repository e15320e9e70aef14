"""Bad configuration: refused by Hydra's parser or composition (an unknown option, a key set
without `+`, a malformed override, flags that exclude each other: one paragraph, exit 2, checked
up front by seqexp.cli.hydra_app), by seqexp.config.checks.check before TensorFlow is imported
(exit 2, every bad value in one paragraph, derived from the loaders' and builders' signatures), or,
for a model that cannot read the data or a name Keras does not know, before any data is loaded
(exit 2).

Every case runs the real `seqexp train` path in this process (tests/badinput.py) and checks that
nothing in the run directory claims success.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf, open_dict

from seqexp.config import CONF_DIR
from seqexp.config.checks import check
from seqexp.errors import SeqexpError
from tests.badinput import assert_no_success, run_cli

USER = 2  # seqexp's exit code for a user error

# (overrides, exit code, words the message must contain)
CASES = [
    # Hydra's own refusals: an override its grammar cannot read, a config it cannot compose
    (["model=transformer"], USER, ["Could not find 'model/transformer'", "options in 'model':", "gru, "]),
    (["data.lokback=144"], USER, ["Could not override 'data.lokback'", "use +data.lokback=144"]),
    (["hydra/launcher=slurmm"], USER, ["'hydra/launcher/slurmm'", "joblib, ray"]),
    (["model.units=[1,"], USER, ["Cannot read the override 'model.units=[1,'", "Quote a value"]),
    (["+data.foo='unclosed"], USER, ['override "+data.foo=\'unclosed"', 'character "\'" (at position 11)']),
    (["data.path=a,b"], USER, ["Ambiguous value for argument 'data.path=a,b'", "add --multirun"]),
    (["-m", "--cfg", "job"], USER, ["--multirun and --cfg cannot be used together", "--cfg job"]),
    (["--info", "--cfg", "job"], USER, ["--cfg and --info cannot be used together"]),
    (["--resolve"], USER, ["--resolve only works together with --cfg"]),
    (["-m", "model=gru,transformer"], USER, ["model=gru,transformer sweeps over transformer", "lstm"]),
    # sweeper and launcher settings: their types by the plugins' schemas, their ranges up front
    (
        ["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=abc", "model.units=8,16"],
        USER,
        ["Error merging override hydra.launcher.n_jobs=abc", "could not be converted to Integer"],
    ),
    (
        ["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=0", "model.units=8,16"],
        USER,
        ["hydra.launcher.n_jobs=0 runs no job", "-1 for one per core"],
    ),
    (
        ["-m", "hydra.sweeper.max_batch_size=0", "model.units=8,16"],
        USER,
        ["hydra.sweeper.max_batch_size=0 must be at least 1", "null: all at once"],
    ),
    (
        ["-m", "hydra/launcher=slurm", "hydra.launcher.timeout_min=0", "hydra.launcher.cpus_per_task=0"],
        USER,
        ["2 bad sweep settings", "hydra.launcher.timeout_min=0 must be at least 1", "cpus_per_task=0"],
    ),
    (
        ["-m", "hydra/launcher=ray", "hydra.launcher.ray.remote.num_gpus=-1", "model.units=8,16"],
        USER,
        ["hydra.launcher.ray.remote.num_gpus=-1 must be at least 0"],
    ),
    # wrong types and unknown keys, refused before TensorFlow is imported
    (["trainer.epochs=abc"], USER, ["trainer.epochs=abc", "must be an integer of at least 1"]),
    (["trainer.mixed_precision=maybe"], USER, ["trainer.mixed_precision=maybe", "true or false"]),
    (["optimizer.learning_rate=fast"], USER, ["optimizer.learning_rate=fast", "a number above 0"]),
    (
        ["callbacks.early_stopping.patience=1.5"],
        USER,
        ["callbacks.early_stopping.patience=1.5", "an integer of at least 0"],
    ),
    (["data.split.train=5"], USER, ["data.split.train=5", "a list of 2", "[start, end]"]),
    (["+data.lokback=144"], USER, ["data.lokback=144 is not a key of data", "lookback"]),
    (
        ["+model.embedding.dimm=8"],
        USER,
        ["model.embedding.dimm=8 is not a key of model.embedding", "dim, trainable"],
    ),
    (["model=cnn", "+model.units=[32]"], USER, ["model.units=[32] is not a key of model", "filters"]),
    (["+model.foo=1"], USER, ["model.foo=1 is not a key of model", "recurrent_dropout"]),
    (["~model.cell"], USER, ["model.cell", "is missing", "one of gru, lstm, simple_rnn"]),
    # values out of range
    (["trainer.epochs=0"], USER, ["trainer.epochs=0", "at least 1"]),
    (["trainer.batch_size=0"], USER, ["trainer.batch_size=0", "at least 1"]),
    (["trainer.steps_per_epoch=0"], USER, ["trainer.steps_per_epoch=0", "at least 1, or null"]),
    (["trainer.mode=up"], USER, ["trainer.mode=up", "min, max, auto"]),
    (["callbacks.checkpoint.mode=best"], USER, ["callbacks.checkpoint.mode=best", "min, max, auto"]),
    (["callbacks.early_stopping.patience=-1"], USER, ["callbacks.early_stopping.patience=-1", "at least 0"]),
    (["callbacks.backup.every_s=-5"], USER, ["callbacks.backup.every_s=-5", "at least 0"]),
    (["trainer.curves_every_s=-1"], USER, ["trainer.curves_every_s=-1", "at least 0"]),
    (["trainer.fast=maybe"], USER, ["trainer.fast=maybe", "true or false"]),
    (["optimizer.learning_rate=0"], USER, ["optimizer.learning_rate=0", "above 0"]),
    (
        ["optimizer.clipnorm=1.0", "optimizer.clipvalue=0.5"],
        USER,
        ["optimizer.clipvalue=0.5", "together with optimizer.clipnorm"],
    ),
    (["optimizer.weight_decay=-0.1"], USER, ["optimizer.weight_decay=-0.1", "at least 0"]),
    (["model.dropout=1.5"], USER, ["model.dropout=1.5", "[0, 1)"]),
    (["model.recurrent_dropout=-0.1"], USER, ["model.recurrent_dropout=-0.1", "[0, 1)"]),
    (
        ["model=gru_stacked", "model.dropout=[0.1,0.2,0.3]"],
        USER,
        ["model.dropout=[0.1, 0.2, 0.3]", "3 values for 2 layers"],
    ),
    (["model.units=[0]"], USER, ["model.units=[0]", "integers of at least 1"]),
    (["model.cell=transformer"], USER, ["model.cell=transformer", "gru, lstm, simple_rnn"]),
    (["model=conv1d", "model.kernel_size=0"], USER, ["model.kernel_size=0", "at least 1"]),
    (["model=conv1d_gru", "model.rnn.dropout=2"], USER, ["model.rnn.dropout=2", "[0, 1)"]),
    (["data=fashion-mnist", "model=cnn", "model.filters=[]"], USER, ["model.filters=[]", "non-empty"]),
    (
        ["model.embedding.one_hot=true", "model.embedding.pretrained=glove.6B.100d"],
        USER,
        ["model.embedding.one_hot=true", "excludes model.embedding.pretrained"],
    ),
    (["data.lookback=100", "data.step=200"], USER, ["data.step=200", "data.lookback=100"]),
    (["data.delay=-1"], USER, ["data.delay=-1", "at least 0"]),
    (["data.split.val=[100,300000]"], USER, ["data.split.val=[100, 300000]", "in order"]),
    (["data.split.test=[400000,300001]"], USER, ["data.split.test=[400000, 300001]", "empty"]),
    (["data.split.train=[0,1.5]"], USER, ["data.split.train=[0, 1.5]", "fractions"]),
    (["data.split.val=[200001,200100]"], USER, ["data.split.val", "99 rows", "data.lookback=1440"]),
    (["data=imdb", "data.maxlen=0"], USER, ["data.maxlen=0", "at least 1"]),
    (["data=imdb", "data.num_words=0"], USER, ["data.num_words=0", "keeps no word"]),
    (
        ["data=imdb", "data.validation_split=1.0"],
        USER,
        ["data.validation_split=1.0", "strictly between 0 and 1"],
    ),
    (
        ["data=imdb-raw", "data.vocabulary_from=everything"],
        USER,
        ["data.vocabulary_from=everything", "training_split, train_folder"],
    ),
    (
        ["data=headlines", "data.val_fraction=1.5", "data.max_length=1"],
        USER,
        ["2 bad config values", "data.val_fraction=1.5", "data.max_length=1"],
    ),
    # seeds reach NumPy's RandomState and TensorFlow's seed: both take [0, 2**32 - 1]
    (["trainer.seed=-1"], USER, ["trainer.seed=-1", "[0, 4294967295]", "NumPy and TensorFlow"]),
    (["trainer.seed=4294967296"], USER, ["trainer.seed=4294967296", "[0, 4294967295]"]),
    (["trainer.seed=1.5"], USER, ["trainer.seed=1.5", "integer"]),
    (["data=imdb", "data.shuffle_seed=-113"], USER, ["data.shuffle_seed=-113", "[0, 4294967295]"]),
    (["data=imdb", "data.validation_seed=-1"], USER, ["data.validation_seed=-1", "[0, 4294967295]"]),
    (
        ["data=fashion-mnist", "model=cnn", "data.split_seed=99999999999"],
        USER,
        ["data.split_seed=99999999999", "[0, 4294967295]"],
    ),
    # thread pools and devices
    (["trainer.threads=0"], USER, ["trainer.threads=0", "auto or an integer of at least 1"]),
    (["trainer.threads=many"], USER, ["trainer.threads=many", "auto"]),
    (["trainer.cpu_devices=0"], USER, ["trainer.cpu_devices=0", "at least 1"]),
    (["trainer.strategy=horovod"], USER, ["trainer.strategy=horovod", "mirrored, multi_worker"]),
    (
        ["trainer.epochs=0", "model.dropout=1.5", "data.delay=-1", "optimizer.learning_rate=-1"],
        USER,
        [
            "4 bad config values",
            "trainer.epochs=0",
            "model.dropout=1.5",
            "data.delay=-1",
            "optimizer.learning_rate=-1",
        ],
    ),
]

# A model that cannot read the data: refused before the data is read (data.path never opened).
INCOMPATIBLE = [
    (
        ["data=jena", "model=cnn"],
        ["model=cnn cannot take the timeseries input of data=jena", "it takes image", "gru_dropout", "naive"],
    ),
    (
        ["data=imdb", "model=naive"],
        ["model=naive cannot take the tokens input of data=imdb", "it takes timeseries", "conv1d", "lstm"],
    ),
    (
        ["data=fashion-mnist", "model=conv1d_gru"],
        [
            "model=conv1d_gru cannot take the image input of data=fashion-mnist",
            "timeseries or tokens",
            "model=cnn, dense",
        ],
    ),
]


# A name that only Keras knows (loss, metric, activation): refused by Keras' own lookups before
# the data is read, every bad name in one paragraph.
KERAS_NAMES = [
    (["trainer.loss=nosuch"], ["trainer.loss=nosuch is not a Keras loss", "huber"]),
    (["trainer.metrics=[mae,nosuch]"], ["trainer.metrics has nosuch", "not a Keras metric", "perplexity"]),
    (["model.activation=nosuch"], ["model.activation=nosuch", "not a Keras activation", "relu, relu6"]),
    (
        ["model=gru_stacked", "model.activation=[tanh,rellu]"],
        ["model.activation=[tanh, rellu] names 'rellu'", "not a Keras activation"],
    ),
    (["model=dense", "model.activation=Relu"], ["model.activation=Relu", "not a Keras activation"]),
    (
        ["model=conv1d_gru", "model.rnn.activation=tanhh"],
        ["model.rnn.activation=tanhh", "not a Keras activation"],
    ),
    (
        ["trainer.loss=mean_squared", "trainer.metrics=[rmse]", "model.activation=sigmoidd"],
        ["3 bad names", "trainer.loss=mean_squared", "rmse", "model.activation=sigmoidd"],
    ),
]


def case_id(case) -> str:
    return " ".join(case[0])


@pytest.mark.parametrize(("overrides", "code", "words"), CASES, ids=[case_id(c) for c in CASES])
def test_bad_config_is_refused_by_name(tmp_path, capsys, overrides, code, words):
    run = tmp_path / "run"
    exit_code, err = run_cli(["train", *overrides, f"hydra.run.dir={run}"], capsys)
    assert exit_code == code, err
    for word in words:
        assert word in err, f"{word!r} not in:\n{err}"
    assert "Traceback" not in err
    if code == USER:  # one paragraph, said once
        (line,) = [line for line in err.splitlines() if line.startswith("seqexp: error:")]
        assert line.endswith(".") and err.count("seqexp: error:") == 1
    assert not (run / "train.log").exists()  # nothing ran: refused before the train function
    assert_no_success(run)


# Both are refused before the data is read: the model's input kind and Keras' own name lookups.
BEFORE_LOADING = INCOMPATIBLE + KERAS_NAMES


@pytest.mark.parametrize(("overrides", "words"), BEFORE_LOADING, ids=[case_id(c) for c in BEFORE_LOADING])
def test_incompatible_models_and_unknown_names_are_refused_before_loading(tmp_path, capsys, overrides, words):
    never_read = tmp_path / "never-read"
    run = tmp_path / "run"
    exit_code, err = run_cli(["train", *overrides, f"data.path={never_read}", f"hydra.run.dir={run}"], capsys)
    assert exit_code == USER, err
    (line,) = [line for line in err.splitlines() if line.startswith("seqexp: error:")]
    for word in words:
        assert word in line, f"{word!r} not in:\n{line}"
    assert "Traceback" not in err and not never_read.exists()
    assert_no_success(run)


def test_accuracy_aliases_and_seqexp_metrics_pass_the_name_check():
    """compile's own aliases (accuracy, acc), seqexp's metrics and every preset's names pass."""
    from seqexp.run.build import keras_name_problems

    cfg = composed(
        "experiment=smoke", "trainer.metrics=[acc,accuracy,perplexity,mae,auc]", "trainer.loss=huber"
    )
    assert keras_name_problems(cfg) == []
    for cfg, choices in composed_all(ALL):  # nor is any name of a preset
        assert keras_name_problems(cfg) == [], choices


def test_bad_values_are_refused_without_importing_tensorflow(tmp_path):
    """In a fresh interpreter: `--help` lists no schema as an option, and bad values are refused
    before TensorFlow is imported."""
    probe = (
        "import sys\nfrom seqexp.cli import main\n"
        "for argv in (['train', '--help'], sys.argv[1:]):\n"
        "    try:\n        main(argv)\n    except SystemExit as e:\n        print('EXIT', e.code)\n"
        "print('TF' if 'tensorflow' in sys.modules or 'keras' in sys.modules else 'NO-TF')\n"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            probe,
            "train",
            "trainer.epochs=0",
            "model.units=[-3]",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.stdout.split()[-3:] == ["EXIT", "2", "NO-TF"], out.stdout + out.stderr
    assert "2 bad config values: trainer.epochs=0" in out.stderr and "model.units=[-3]" in out.stderr
    assert "model: bidirectional_gru" in out.stdout and "model/embedding: learned" in out.stdout


def test_a_bad_job_in_a_sweep_is_recorded_and_the_others_run(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    exit_code, err = run_cli(
        ["train", "-m", "model=naive", "trainer.epochs=0", "data.delay=0,-5", f"hydra.sweep.dir={sweep}"],
        capsys,
    )
    assert exit_code == 1 and "2 of 2 jobs failed" in err
    for job in sorted(p for p in sweep.iterdir() if p.is_dir()):
        metrics = json.loads((job / "metrics.json").read_text())
        assert metrics["status"] == "failed" and "trainer.epochs=0" in metrics["reason"]
    bad = json.loads((sweep / "1_jena_naive" / "metrics.json").read_text())
    assert "2 bad config values" in bad["reason"] and "data.delay=-5" in bad["reason"]


# ---- every option of the tree passes its own checks ---------------------------------------------


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def composed_all(selections: list[list[str]], conf_dir=CONF_DIR) -> list:
    """(config, option chosen per group) of each selection, composed as `seqexp train` does."""
    configs = []
    with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
        for overrides in selections:
            cfg = compose(
                "train", overrides=["paths.run_dir=/tmp/unused", *overrides], return_hydra_config=True
            )
            HydraConfig.instance().set_config(cfg)  # ${hydra:...} resolves as in a job
            choices = dict(cfg.hydra.runtime.choices)
            with open_dict(cfg):
                del cfg["hydra"]
            configs.append((cfg, choices))
    return configs


def composed(*overrides: str):
    return composed_all([list(overrides)])[0][0]


# Every preset, the options no preset uses, and an Optuna trial's overrides (a scalar model.units)
ALL = [
    *([f"experiment={name}"] for name in options("experiment")),
    ["optimizer=sgd"],
    ["optimizer=adagrad"],
    [
        "model=lstm_dropout",
        "model.dropout=0.37",
        "model.recurrent_dropout=0.12",
        "model.units=64",
        "optimizer.learning_rate=0.00042",
    ],
]
GROUPS = ("data", "model", "optimizer", "trainer", "callbacks")


def test_every_option_and_preset_passes_its_signatures():
    """Each YAML sets exactly the parameters of its target (none missing, none accepted and then
    ignored: check() refuses both), with values its rules allow."""
    every_config = composed_all(ALL)
    assert len(options("experiment")) >= 35
    for cfg, _ in every_config:
        OmegaConf.to_container(cfg, resolve=True)  # ${trainer.batch_size}, ${sample:...}, ...
        check(cfg)
    for group in GROUPS:  # between them, the selections use every option of every group
        assert {choices[group] for _, choices in every_config} == set(options(group)), group


def test_a_bad_yaml_edit_is_caught_by_the_same_check(tmp_path):
    """A preset that sets an unknown key is refused by name (a copy of the tree, one preset broken)."""
    import shutil

    tree = tmp_path / "conf"
    shutil.copytree(CONF_DIR, tree)
    preset = tree / "experiment" / "jena_gru.yaml"
    preset.write_text(preset.read_text() + "\nmodel:\n  unitz: [64]\n")
    ((cfg, _),) = composed_all([["experiment=jena_gru"]], conf_dir=tree)
    with pytest.raises(SeqexpError, match="model.unitz=\\[64\\] is not a key of model"):
        check(cfg)


def test_a_direct_call_is_checked_by_the_same_rules():
    """Calling a loader or builder from Python gives the CLI's messages (no second copy of a rule)."""
    from seqexp.data.jena import load_jena

    values = OmegaConf.to_container(composed("experiment=smoke").data, resolve=True)
    del values["_target_"]
    with pytest.raises(SeqexpError, match="step=200 must not exceed data.lookback=144"):
        load_jena(**{**values, "step": 200})
    with pytest.raises(SeqexpError, match="lookback=0 must be an integer of at least 1"):
        load_jena(**{**values, "lookback": 0})


def test_check_is_silent_on_a_good_config_and_names_every_problem():
    cfg = composed("experiment=smoke")
    check(cfg)
    cfg.trainer.epochs = 0
    cfg.model.dropout = [1.0]
    with pytest.raises(SeqexpError) as err:
        check(cfg)
    message = str(err.value)
    assert message.startswith("2 bad config values: trainer.epochs=0")
    assert "model.dropout=[1.0] must be a number in [0, 1)" in message and "trainer.epochs=0" in message
    assert "\n" not in message


@pytest.fixture(autouse=True)
def _clean_hydra():
    yield
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()


def test_hydra_full_error_shows_the_traceback_of_a_user_error(tmp_path, capsys, monkeypatch):
    """The one-paragraph message is the default; HYDRA_FULL_ERROR=1 lets the exception through."""
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with pytest.raises(SeqexpError, match="trainer.epochs=0"):
        run_cli(["train", "trainer.epochs=0", f"hydra.run.dir={tmp_path / 'run'}"], capsys)


def test_conv1d_on_windows_too_short_is_refused_before_data_loads(tmp_path, capsys):
    run = tmp_path / "run"
    code, err = run_cli(["train", "experiment=smoke", "model=conv1d", f"hydra.run.dir={run}"], capsys)
    assert code == 2 and "Traceback" not in err
    assert (
        "seqexp: error: model=conv1d needs inputs of at least 61 timesteps (each Conv1D drops "
        "kernel_size - 1 timesteps, each MaxPool1D divides by pool_size), and data=jena gives 24."
    ) in err
    assert "Read " not in (run / "train.log").read_text()  # no data was loaded
    assert_no_success(run)


@pytest.mark.parametrize("layers, kernel, pool", [(3, 5, 3), (2, 3, 2), (1, 7, 4), (4, 2, 2)])
def test_conv1d_shortest_input_is_what_keras_can_build(layers, kernel, pool):
    from seqexp.data.spec import DataSpec
    from seqexp.models.conv import build_conv1d, shortest_input

    needed = shortest_input({"kernel_size": kernel, "pool_size": pool, "conv_layers": layers})
    settings = dict(
        filters=4,
        kernel_size=kernel,
        pool_size=pool,
        conv_layers=layers,
        activation="relu",
        rnn=None,
        embedding=None,
    )
    model = build_conv1d(DataSpec("regression", "timeseries", (needed, 3)), **settings)
    assert model.layers[-3].output.shape[1] == 1  # the last Conv1D: exactly one step left
    with pytest.raises(SeqexpError, match=f"at least {needed} timesteps .* the data gives {needed - 1}"):
        build_conv1d(DataSpec("regression", "timeseries", (needed - 1, 3)), **settings)
