"""What made a run directory, and what may be replayed into it.

identity.json holds the composed config a run was made with (flattened, resolved), hashed: a
resume, a `hydra.run.dir=` or a sweep job aimed at the folder with another config is refused,
naming the keys that differ. Overrides read back from a folder (`seqexp resume`) may choose
options and values only, never code to import.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

from seqexp.atomic import write_text
from seqexp.errors import NotThisRun, SeqexpError

IDENTITY = "identity.json"
# The keys that are not the experiment: where files go, how much is printed, thread counts, the
# run's labels (and every *.cache_dir). A run moved to another disk, or continued with another
# cache folder or thread count, is the same run; none of them is a hyperparameter either
# (TensorBoard's HParams table, seqexp.run.hparams). Changing this list changes the identity of
# every run already written (resume would refuse them), so it only grows with new config keys.
NOT_EXPERIMENT = ("paths", "trainer.verbose", "trainer.threads", "tags", "note")


# Keys added after runs were written, with the value those runs had: left out of the identity at
# that value, so such runs keep their identity (and resume), and shown as it when they differ.
IMPLIED = {"trainer.backend": "tensorflow"}


def is_experiment_key(key: str) -> bool:
    """Whether a dotted config key is part of the experiment (not in NOT_EXPERIMENT)."""
    return not key.endswith("cache_dir") and not any(
        key == name or key.startswith(f"{name}.") for name in NOT_EXPERIMENT
    )


def flatten(node, prefix: str = "") -> dict:
    """{"model.units": [16], ...}: every leaf of a nested config or dict (resolved) by dotted key;
    lists and empty mappings are leaves. The one flattening of a config: identity, HParams, MLflow
    params and `seqexp diff` all see the same keys."""
    from omegaconf import OmegaConf

    if OmegaConf.is_config(node):
        node = OmegaConf.to_container(node, resolve=True)
    if not isinstance(node, dict):
        return {prefix[:-1]: node} if prefix else {"": node}
    flat = {}
    for key, value in node.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_identity(cfg) -> dict:
    """The composed config as {dotted key: resolved value}, its experiment keys only; paths.run_dir
    reads "<run_dir>", so paths derived from it (callbacks.checkpoint.filepath) do not count."""
    from omegaconf import OmegaConf, open_dict

    cfg = copy.deepcopy(cfg)
    with open_dict(cfg):
        cfg.pop("hydra", None)
        if "paths" in cfg:
            cfg.paths.run_dir = "<run_dir>"
    flat = flatten(OmegaConf.to_container(cfg, resolve=True))
    return {
        key: value
        for key, value in flat.items()
        if is_experiment_key(key) and (key not in IMPLIED or value != IMPLIED[key])
    }


def digest(identity: dict) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def read_identity(run_dir: Path) -> dict | None:
    """identity.json of a run directory (None: there is none, a run of an older seqexp)."""
    path = Path(run_dir) / IDENTITY
    if not path.exists():
        return None
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        recorded = err
    if not isinstance(recorded, dict) or not isinstance(recorded.get("sha256"), str):
        raise NotThisRun(
            f"{path} is not readable (torn or edited by hand), so this run cannot be told apart "
            f"from another config's; nothing was changed. Restore the file, or choose another folder."
        )
    return recorded


def write_identity(run_dir: Path, identity: dict, overrides: list[str] | None) -> None:
    record = {"sha256": digest(identity), "overrides": overrides, "config": identity}
    write_text(Path(run_dir) / IDENTITY, json.dumps(record, indent=1, sort_keys=True, default=str) + "\n")


def refuse_other_config(run_dir: Path, recorded: dict, identity: dict) -> None:
    """Refuse to continue the run recorded in identity.json with another config, naming the keys
    that differ."""
    if recorded["sha256"] == digest(identity):
        return
    old = recorded.get("config") if isinstance(recorded.get("config"), dict) else {}
    old = {**IMPLIED, **old}
    identity = {**IMPLIED, **identity}
    unset = "(not set)"
    keys = sorted(k for k in old.keys() | identity.keys() if old.get(k, unset) != identity.get(k, unset))
    shown = "; ".join(f"{k}: {old.get(k, unset)!r} there, {identity.get(k, unset)!r} here" for k in keys[:6])
    raise NotThisRun(
        f"{run_dir} holds a run of another config ("
        + (
            f"{len(keys)} key(s) differ: {shown}{'; ...' if len(keys) > 6 else ''}"
            if keys
            else "its hash differs"
        )
        + f"); continuing it with this config would mix two runs. Continue it with `seqexp resume "
        f"{run_dir}` (its own config), or choose another folder."
    )


# Modules an override may point a `_target_` at: everything else is code a handed-over folder
# would make `seqexp resume` import and run.
TRUSTED_TARGETS = ("seqexp.", "keras.", "hydra_plugins.")


def check_replayable(overrides: list[str], source: Path) -> None:
    """Overrides read from a folder (a shared scratch space, a colleague's run) choose options and
    values only: none may set hydra.* (callbacks, launcher, search path) or a `_target_` outside
    TRUSTED_TARGETS, directly or inside a mapping value."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    bad = []
    for text in overrides:
        try:
            override = parser.parse_override(text)
        except Exception as err:  # noqa: BLE001 - Hydra's parse errors have several types
            bad.append(f"{text!r} (not an override: {str(err).splitlines()[0]})")
            continue
        key = override.key_or_group
        if key.split("/")[0].split(".")[0] == "hydra":
            bad.append(f"{text!r} (sets Hydra itself, which can name code to run)")
        elif override.is_sweep_override():
            bad.append(f"{text!r} (a sweep; a run directory replays one value per key)")
        else:
            value = override.value()
            targets = [value] if key.split(".")[-1] == "_target_" else []
            targets += _targets_in(value)
            bad += [f"{text!r} (imports {t!r})" for t in targets if not str(t).startswith(TRUSTED_TARGETS)]
    if bad:
        raise SeqexpError(
            f"{source} asks to replay override(s) that could run code: {'; '.join(bad)}. `seqexp "
            f"resume` replays values and config options only; a _target_ must name a "
            f"{', '.join(t.rstrip('.') for t in TRUSTED_TARGETS)} function. Check where this folder "
            f"came from; nothing was run."
        )


def _targets_in(value) -> list:
    """Every `_target_` inside a mapping or list value of an override."""
    if isinstance(value, dict):
        own = [value["_target_"]] if "_target_" in value else []
        return own + [t for v in value.values() for t in _targets_in(v)]
    if isinstance(value, list):
        return [t for v in value for t in _targets_in(v)]
    return []


def run_context() -> tuple[list[str], str | None]:
    """(the command-line overrides, the sweep directory or None) of the current Hydra job: what
    the trackers (MLflow, W&B) tag a run with and group a sweep's jobs by."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return [], None
    hydra = HydraConfig.get()
    overrides = [str(o) for o in hydra.overrides.task]
    sweep = str(Path(hydra.sweep.dir).resolve()) if hydra.mode == RunMode.MULTIRUN else None
    return overrides, sweep


def sweep_name(sweep_dir: str) -> str:
    """A sweep by its folder and the one above (`2026-12-05/07-10-00` under multirun/): MLflow's
    parent run and the W&B group of its jobs are named after it."""
    return f"{Path(sweep_dir).parent.name}/{Path(sweep_dir).name}"
