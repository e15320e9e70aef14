"""Bad configuration: refused by the schemas while Hydra composes (exit 1, the key named), by
seqexp.schema.check before TensorFlow is imported (exit 2, every bad value in one paragraph), or,
for a model that cannot read the data, before any data is loaded (exit 2, the models that can).

Every case runs the real `seqexp train` path in this process (tests/badinput.py) and checks that
nothing in the run directory claims success.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_method
from omegaconf import OmegaConf, open_dict

from seqexp.config import CONF_DIR, schema
from seqexp.errors import SeqexpError
from tests.badinput import assert_no_success, run_cli

HYDRA = 1  # Hydra's own exit code for a config it cannot compose
USER = 2  # seqexp's exit code for a user error

# (overrides, exit code, words the message must contain)
CASES = [
    # wrong types and unknown keys, refused while composing
    (["trainer.epochs=abc"], HYDRA, ["trainer.epochs", "abc", "Integer"]),
    (["trainer.mixed_precision=maybe"], HYDRA, ["trainer.mixed_precision", "maybe", "bool"]),
    (["optimizer.learning_rate=fast"], HYDRA, ["optimizer.learning_rate", "fast", "Float"]),
    (["callbacks.early_stopping.patience=1.5"], HYDRA, ["callbacks.early_stopping.patience", "1.5"]),
    (["data.split.train=5"], HYDRA, ["data.split.train", "list"]),
    (["data.lokback=144"], HYDRA, ["data.lokback", "not in", "JenaSchema"]),
    (["model.embedding.dimm=8"], HYDRA, ["model.embedding.dimm", "not in", "EmbeddingSchema"]),
    (["model=cnn", "model.units=[32]"], HYDRA, ["model.units", "not in", "CnnSchema"]),
    (["model=transformer"], HYDRA, ["model/transformer", "gru"]),
    # values checked before TensorFlow is imported
    (["+model.foo=1"], USER, ["model.foo=1 is not a key of model", "recurrent_dropout"]),
    (["trainer.epochs=0"], USER, ["trainer.epochs=0", "at least 1"]),
    (["trainer.batch_size=0"], USER, ["trainer.batch_size=0", "at least 1"]),
    (["trainer.steps_per_epoch=0"], USER, ["trainer.steps_per_epoch=0", "at least 1 or null"]),
    (["trainer.mode=up"], USER, ["trainer.mode=up", "min, max, auto"]),
    (["callbacks.checkpoint.mode=best"], USER, ["callbacks.checkpoint.mode=best", "min, max, auto"]),
    (["callbacks.early_stopping.patience=-1"], USER,
     ["callbacks.early_stopping.patience=-1", "at least 0"]),
    (["optimizer.learning_rate=0"], USER, ["optimizer.learning_rate=0.0", "above 0"]),
    (["optimizer.clipnorm=1.0", "optimizer.clipvalue=0.5"], USER,
     ["optimizer.clipvalue=0.5", "together with optimizer.clipnorm"]),
    (["optimizer.weight_decay=-0.1"], USER, ["optimizer.weight_decay=-0.1", "at least 0"]),
    (["model.dropout=1.5"], USER, ["model.dropout=1.5", "[0, 1)"]),
    (["model.recurrent_dropout=-0.1"], USER, ["model.recurrent_dropout=-0.1", "[0, 1)"]),
    (["model=gru_stacked", "model.dropout=[0.1,0.2,0.3]"], USER,
     ["model.dropout=[0.1, 0.2, 0.3]", "3 values for 2 layers"]),
    (["model.units=[0]"], USER, ["model.units=[0]", "positive integer"]),
    (["model.cell=transformer"], USER, ["model.cell=transformer", "gru, lstm, simple_rnn"]),
    (["model=conv1d", "model.kernel_size=0"], USER, ["model.kernel_size=0", "positive integer"]),
    (["data=fashion-mnist", "model=cnn", "model.filters=[]"], USER, ["model.filters=[]", "at least one"]),
    (["data.lookback=100", "data.step=200"], USER, ["data.step=200", "data.lookback=100"]),
    (["data.delay=-1"], USER, ["data.delay=-1", "at least 0"]),
    (["data.split.val=[100,300000]"], USER, ["data.split.val=[100, 300000]", "in order"]),
    (["data.split.test=[400000,300001]"], USER, ["data.split.test=[400000, 300001]", "empty"]),
    (["data.split.train=[0,1.5]"], USER, ["data.split.train=[0, 1.5]", "fractions"]),
    (["data.split.val=[200001,200100]"], USER, ["data.split.val", "99 rows", "data.lookback=1440"]),
    (["data=imdb", "data.maxlen=0"], USER, ["data.maxlen=0", "at least 1"]),
    (["data=imdb", "data.num_words=0"], USER, ["data.num_words=0", "keeps no word"]),
    (["data=imdb", "data.validation_split=1.0"], USER,
     ["data.validation_split=1.0", "strictly between 0 and 1"]),
    (["data=imdb-raw", "data.vocabulary_from=everything"], USER,
     ["data.vocabulary_from=everything", "training_split, train_folder"]),
    (["data=headlines", "data.val_fraction=1.5", "data.max_length=1"], USER,
     ["2 bad config values", "data.val_fraction=1.5", "data.max_length=1"]),
    (["trainer.epochs=0", "model.dropout=1.5", "data.delay=-1", "optimizer.learning_rate=-1"], USER,
     ["4 bad config values", "trainer.epochs=0", "model.dropout=1.5", "data.delay=-1",
      "optimizer.learning_rate=-1.0"]),
]

# A model that cannot read the data: refused before the data is read (data.path never opened).
INCOMPATIBLE = [
    (["data=jena", "model=cnn"], ["model=cnn cannot take the timeseries input of data=jena",
                                  "it takes image", "gru_dropout", "naive"]),
    (["data=imdb", "model=naive"], ["model=naive cannot take the tokens input of data=imdb",
                                    "it takes timeseries", "conv1d", "lstm"]),
    (["data=fashion-mnist", "model=conv1d_gru"],
     ["model=conv1d_gru cannot take the image input of data=fashion-mnist",
      "timeseries or tokens", "model=cnn, dense"]),
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


@pytest.mark.parametrize(("overrides", "words"), INCOMPATIBLE, ids=[case_id(c) for c in INCOMPATIBLE])
def test_incompatible_model_and_data_are_refused_before_loading(tmp_path, capsys, overrides, words):
    never_read = tmp_path / "never-read"
    run = tmp_path / "run"
    exit_code, err = run_cli(["train", *overrides, f"data.path={never_read}",
                              f"hydra.run.dir={run}"], capsys)
    assert exit_code == USER, err
    (line,) = [line for line in err.splitlines() if line.startswith("seqexp: error:")]
    for word in words:
        assert word in line, f"{word!r} not in:\n{line}"
    assert "Traceback" not in err and not never_read.exists()
    assert_no_success(run)


def test_bad_values_are_refused_without_importing_tensorflow(tmp_path):
    """In a fresh interpreter: `--help` lists no schema as an option, and bad values are refused
    before TensorFlow is imported."""
    probe = ("import sys\nfrom seqexp.cli import main\n"
             "for argv in (['train', '--help'], sys.argv[1:]):\n"
             "    try:\n        main(argv)\n    except SystemExit as e:\n        print('EXIT', e.code)\n"
             "print('TF' if 'tensorflow' in sys.modules or 'keras' in sys.modules else 'NO-TF')\n")
    out = subprocess.run([sys.executable, "-c", probe, "train", "trainer.epochs=0", "model.units=[-3]",
                          f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.split()[-3:] == ["EXIT", "2", "NO-TF"], out.stdout + out.stderr
    assert "2 bad config values: trainer.epochs=0" in out.stderr and "model.units=[-3]" in out.stderr
    assert "model: bidirectional_gru" in out.stdout and "schema" not in out.stdout


def test_a_bad_job_in_a_sweep_is_recorded_and_the_others_run(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    exit_code, err = run_cli(["train", "-m", "model=naive", "trainer.epochs=0", "data.delay=0,-5",
                              f"hydra.sweep.dir={sweep}"], capsys)
    assert exit_code == 1 and "2 of 2 jobs failed" in err
    for job in sorted(p for p in sweep.iterdir() if p.is_dir()):
        metrics = json.loads((job / "metrics.json").read_text())
        assert metrics["status"] == "failed" and "trainer.epochs=0" in metrics["reason"]
    bad = json.loads((sweep / "1_jena_naive" / "metrics.json").read_text())
    assert "2 bad config values" in bad["reason"] and "data.delay=-5" in bad["reason"]


# ---- the schemas match the code and the config tree ------------------------------------------

def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def composed_all(selections: list[list[str]]) -> list:
    """(config, option chosen per group) of each selection, composed as `seqexp train` does."""
    configs = []
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        for overrides in selections:
            cfg = compose("train", overrides=["paths.run_dir=/tmp/unused", *overrides],
                          return_hydra_config=True)
            HydraConfig.instance().set_config(cfg)  # ${hydra:...} resolves as in a job
            choices = dict(cfg.hydra.runtime.choices)
            with open_dict(cfg):
                del cfg["hydra"]
            configs.append((cfg, choices))
    return configs


def composed(*overrides: str):
    return composed_all([list(overrides)])[0][0]


# Every preset, the options no preset uses, and an Optuna trial's overrides (a scalar model.units)
ALL = [*([f"experiment={name}"] for name in options("experiment")),
       ["optimizer=sgd"], ["optimizer=adagrad"],
       ["model=lstm_dropout", "model.dropout=0.37",
        "model.recurrent_dropout=0.12", "model.units=64", "optimizer.learning_rate=0.00042"]]
GROUPS = ("data", "model", "optimizer", "trainer", "callbacks")


@pytest.fixture(scope="module")
def every_config() -> list:
    return composed_all(ALL)


def test_every_option_and_preset_composes_against_its_schema(every_config):
    assert len(options("experiment")) >= 35
    for overrides, (cfg, _) in zip(ALL, every_config, strict=True):
        for group in GROUPS:
            assert dataclasses.is_dataclass(OmegaConf.get_type(cfg[group])), (overrides, group)
        assert OmegaConf.missing_keys(cfg) == set(), overrides  # the YAML sets every schema field
        OmegaConf.to_container(cfg, resolve=True)  # ${trainer.batch_size}, ${sample:...}, ...
        schema.check(cfg)  # no preset trips a value check
    for group in GROUPS:  # between them, the selections use every option of every group
        assert {choices[group] for _, choices in every_config} == set(options(group)), group


def parameters(function, skip=("spec", "x", "self", "args", "kwargs")) -> set[str]:
    return {name for name in inspect.signature(function).parameters if name not in skip}


def init_parameters(cls) -> set[str]:
    """Keyword parameters of a class, following **kwargs up to the base that names them."""
    names = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        signature = inspect.signature(klass.__init__)
        names |= parameters(klass.__init__)
        if not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            break
    return names


def fields(schema_type, skip=("_target_", "_partial_", "enabled")) -> set[str]:
    return {f.name for f in dataclasses.fields(schema_type) if f.name not in skip}


def test_schema_fields_are_the_loader_and_builder_parameters(every_config):
    """Every schema field is a keyword of its _target_ (none accepted and then ignored) and every
    keyword of a loader or builder is in its schema (each can be set from the command line)."""
    from seqexp.models import embedding, recurrent

    for cfg, choices in every_config:
        for group in ("data", "model", "optimizer"):
            node, where = cfg[group], f"{group}={choices[group]}"
            target = get_method(node._target_)
            if group == "optimizer":  # Keras optimizers take more keywords than the presets set
                assert fields(OmegaConf.get_type(node)) <= init_parameters(target), where
            else:
                assert fields(OmegaConf.get_type(node)) == parameters(target), where
    assert fields(schema.RecurrentStackSchema) == parameters(recurrent.recurrent_stack)
    assert fields(schema.EmbeddingSchema) == set(embedding.KEYS)
    callbacks = every_config[0][0].callbacks
    for name in callbacks:
        node = callbacks[name]
        assert fields(OmegaConf.get_type(node)) <= init_parameters(get_method(node._target_)), name


def test_allowed_words_match_the_code():
    from seqexp.data import fashion_mnist, imdb, imdb_raw, jena
    from seqexp.models import cnn, recurrent
    from seqexp.run import runtime as distribute

    assert set(schema.CELLS) == set(recurrent.CELLS)
    assert schema.CONV_PADDINGS == cnn.PADDINGS
    assert schema.PAD_SIDES == imdb.PAD_SIDES == imdb_raw.PAD_SIDES
    assert schema.IMDB_ENCODINGS == imdb.ENCODINGS
    assert schema.VALIDATION_MODES == imdb.VALIDATION_MODES
    assert schema.VOCABULARY_SOURCES == imdb_raw.VOCABULARY_SOURCES
    assert schema.STRATEGIES == distribute.STRATEGIES
    assert schema.SPLITS == jena.SPLITS
    assert fields(schema.FashionMnistFilesSchema) == set(fashion_mnist.ROLES)


def test_every_yaml_option_names_a_schema():
    """The tree's options each list their schema first in their defaults (a new option that
    forgets it would compose unchecked)."""
    for group in ("data", "model", "optimizer", "trainer", "callbacks"):
        for path in sorted((CONF_DIR / group).glob("*.yaml")):
            defaults = OmegaConf.load(path).get("defaults")
            assert defaults and defaults[0].startswith(f"/{group}_schema") \
                and defaults[0].endswith("@_here_") and defaults[-1] == "_self_", path
            assert defaults[0][1:-len("@_here_")] in schema.SCHEMAS, path


def test_a_schema_refuses_what_the_yaml_could_not(tmp_path):
    """The config tree is where a bad YAML edit is caught too: a preset that sets an unknown key
    fails to compose, naming it (a copy of the tree with one preset broken)."""
    import shutil

    from hydra.errors import ConfigCompositionException
    from omegaconf.errors import ConfigKeyError

    tree = tmp_path / "conf"
    shutil.copytree(CONF_DIR, tree)
    preset = tree / "experiment" / "jena_gru.yaml"
    preset.write_text(preset.read_text() + "\nmodel:\n  unitz: [64]\n")
    with initialize_config_dir(config_dir=str(tree), version_base="1.3"), \
            pytest.raises((ConfigCompositionException, ConfigKeyError), match="unitz"):
        compose("train", overrides=["experiment=jena_gru"])


def test_check_is_silent_on_a_good_config_and_names_every_problem():
    cfg = composed("experiment=smoke")
    schema.check(cfg)
    cfg.trainer.epochs = 0
    cfg.model.dropout = [1.0]
    with pytest.raises(SeqexpError) as err:
        schema.check(cfg)
    message = str(err.value)
    assert message.startswith("2 bad config values: trainer.epochs=0")
    assert "model.dropout=[1.0] must be in [0, 1)" in message and "\n" not in message


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
