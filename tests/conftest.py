"""Shared fixtures: configs composed in-process with Hydra's compose API, and data files written
in the real on-disk formats so they go through the same loader code as downloaded files."""

from __future__ import annotations

import copy
import functools
import logging
import os
import re
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf, open_dict

from seqexp.config import CONF_DIR

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BOX = re.compile("[\u2500-\u257f]")  # box-drawing characters: a table drawn for a terminal
PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"

# Small, fast settings for any run: no progress bars, no TensorBoard files.
QUIET = ["trainer.verbose=0", "callbacks.tensorboard.enabled=false"]


def compose_train(run_dir: Path, *overrides: str):
    """The train config exactly as `seqexp train <overrides>` composes it, run dir pinned.

    Hydra's own part of the config is installed as the current HydraConfig, as in a real job,
    so runs know the chosen option names (data=jena, model=gru).
    """
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "train", overrides=[f"paths.run_dir={run_dir}", *QUIET, *overrides], return_hydra_config=True
        )
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


@pytest.fixture(autouse=True)
def _root_logging_restored():
    """An in-process Hydra job points the root logger at the test's captured stdout; the next test
    in the same worker would log into that closed stream ("--- Logging error ---" on stderr)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def make_cfg(tmp_path):
    """make_cfg(*overrides, run_dir=None) -> composed train config writing into tmp_path/run."""

    def make(*overrides: str, run_dir: Path | None = None):
        return compose_train(run_dir or tmp_path / "run", *overrides)

    return make


# A tiny Jena protocol: 1800 rows (12.5 days), windows of 80 timesteps (lookback 240, step 3).
JENA_ROWS = 1800
TINY_JENA = [
    "data.split.train=[0,1000]", "data.split.val=[1000,1400]", "data.split.test=[1400,null]",
    "data.lookback=240", "data.step=3", "data.delay=12",
    "trainer.batch_size=16", "trainer.epochs=1", "trainer.steps_per_epoch=2",
    "trainer.validation_steps=2", "trainer.test_steps=2",
]  # fmt: skip


@pytest.fixture(scope="session")
def jena_csv(tmp_path_factory) -> Path:
    """A synthetic weather file in the exact Jena CSV format (quoted header, Date Time first)."""
    from seqexp.data.synthetic import synthetic_weather, write_jena_csv

    path = tmp_path_factory.mktemp("jena") / "jena_climate_2009_2016.csv"
    return write_jena_csv(path, synthetic_weather(JENA_ROWS, seed=7))


@functools.cache
def _option_values(group: str, option: str) -> tuple:
    cfg = compose_train(Path("/run-dir-of-a-direct-call"), f"{group}={option}")
    return tuple(OmegaConf.to_container(cfg[group], resolve=True).items())


def option_values(group: str, option: str, **overrides) -> dict:
    """The keyword arguments conf/<group>/<option>.yaml gives its target, as `seqexp train`
    composes them (the YAML is the one place of those values), with `overrides` on top."""
    values = {k: v for k, v in _option_values(group, option) if not k.startswith("_")}
    return {**copy.deepcopy(values), **overrides}


def option_target(group: str, option: str):
    """The function conf/<group>/<option>.yaml names by its _target_."""
    from hydra.utils import get_method

    return get_method(dict(_option_values(group, option))["_target_"])
