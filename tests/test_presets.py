"""Experiment presets by protocol: each book's protocol is written once (conf/experiment/protocol/)
and every preset of that protocol extends it instead of repeating its values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from seqexp.config import CONF_DIR

EXPERIMENTS = CONF_DIR / "experiment"
PROTOCOLS = EXPERIMENTS / "protocol"
PRESETS = sorted(p.stem for p in EXPERIMENTS.glob("*.yaml"))

# Which protocol a preset's name promises (the first match wins); smoke, headlines and Fashion-MNIST
# each stand alone.
FAMILIES = [
    ("jena20k_", "jena_seed000"),
    ("jena2_", "jena_dlwp2"),
    ("jena_", "jena_dlwp1"),
    ("hg_imdb_", "imdb_hg"),
    ("imdb_raw_", "imdb_raw_dlwp1"),
    ("imdb_", "imdb_dlwp1"),
]


def read(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def leaves(node: dict, prefix: str = "") -> dict:
    """{dotted key: value} of a YAML mapping's leaves, the defaults list left out."""
    out = {}
    for key, value in node.items():
        if key == "defaults":
            continue
        if isinstance(value, dict):
            out.update(leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def plain(value):
    return OmegaConf.to_container(value) if OmegaConf.is_config(value) else value


def entries(path: Path) -> list:
    return read(path).get("defaults", [])


def protocol_values(name: str) -> tuple[dict, dict]:
    """(leaf values, group overrides) a protocol sets, the protocols it extends included."""
    values, groups = {}, {}
    for entry in entries(PROTOCOLS / f"{name}.yaml"):
        if isinstance(entry, str) and entry != "_self_":
            inner_values, inner_groups = protocol_values(entry)
            values.update(inner_values)
            groups.update(inner_groups)
        elif isinstance(entry, dict):
            groups.update({k.removeprefix("override /"): v for k, v in entry.items()})
    values.update(leaves(read(PROTOCOLS / f"{name}.yaml")))
    return values, groups


def protocols_of(preset: str) -> list[str]:
    names = [e for e in entries(EXPERIMENTS / f"{preset}.yaml") if isinstance(e, str) and e != "_self_"]
    assert all(n.startswith("protocol/") for n in names), names
    return [n.removeprefix("protocol/") for n in names]


@pytest.fixture(scope="module")
def composed() -> dict:
    """Every preset composed as `seqexp train experiment=<name>` composes it."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return {
            name: compose("train", overrides=[f"experiment={name}"], return_hydra_config=True)
            for name in PRESETS
        }


def test_every_preset_composes_with_its_reference(composed):
    assert len(PRESETS) >= 30
    for name, cfg in composed.items():
        assert cfg.hydra.runtime.choices.experiment == name
        assert "reference" in cfg  # null or the book's {metric, value, source}


@pytest.mark.parametrize("prefix,protocol", FAMILIES)
def test_each_family_extends_its_protocol(prefix, protocol):
    family = [
        p
        for p in PRESETS
        if p.startswith(prefix)
        and not any(p.startswith(other) for other, _ in FAMILIES[: FAMILIES.index((prefix, protocol))])
    ]
    assert family, prefix
    for preset in family:
        assert protocol in protocols_of(preset), f"{preset} does not extend protocol/{protocol}"


def test_a_protocol_holds_its_values_in_every_preset_that_extends_it(composed):
    """No preset repeats or changes a value of its protocol: the composed config has the protocol's
    value, and the preset's own file does not set the key again (one fact in one place)."""
    checked = 0
    for preset in PRESETS:
        own = leaves(read(EXPERIMENTS / f"{preset}.yaml"))
        for protocol in protocols_of(preset):
            values, groups = protocol_values(protocol)
            assert values, protocol
            cfg = composed[preset]
            for key, value in values.items():
                assert key not in own, f"{preset} sets {key} again; protocol/{protocol} holds it"
                assert plain(OmegaConf.select(cfg, key)) == value, f"{preset}: {key}"
                checked += 1
            for group, option in groups.items():
                assert cfg.hydra.runtime.choices[group] == option, f"{preset}: {group}"
    assert checked > 200


def test_every_protocol_is_used():
    used = {protocol for preset in PRESETS for protocol in protocols_of(preset)}
    assert used == {p.stem for p in PROTOCOLS.glob("*.yaml")}
