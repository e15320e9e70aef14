"""What a run was trained with: env.json in the run directory, and its key facts in metrics.json.

`capture(cfg)` records the command line and overrides, the git commit of the checkout (when the
working directory or the seqexp package is in one), the versions of seqexp, Python and the
libraries a result depends on (importlib.metadata, Hydra's launcher/sweeper plugins included),
the platform, the CPU count, the devices TensorFlow sees with its CUDA/cuDNN build versions, and
the seed and determinism setting. `version_changes` names what differs between two captures, so
`seqexp resume` can warn before a run continues under other versions.

Only `capture` imports TensorFlow (inside the function); the rest reads plain JSON, so
`seqexp runs`, `seqexp diff` and `seqexp resume` use it without TensorFlow.

A dirty checkout's change is kept beside env.json (`keep_patch`): `git diff HEAD --binary` as
code.patch, which `git apply` puts back onto the recorded commit. Tracked files only, as
W&B's diff.patch: untracked files are named in env.json (`git.untracked`), not copied, because an
unignored outputs/ or data folder would fill the patch with checkpoints and datasets. The patch
is cut at PATCH_LIMIT bytes (a whole line last), and env.json says so.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from seqexp.atomic import replacing, write_text

ENV = "env.json"
PATCH = "code.patch"
PATCH_LIMIT = 1_000_000  # bytes of code.patch at most: a code change, not a dataset
UNTRACKED_NAMED = 100  # untracked files or folders named in env.json at most
# Distributions whose versions can change a result; Hydra's plugins in use are added to them.
PACKAGES = ("seqexp", "tensorflow", "keras", "hydra-core", "omegaconf", "numpy")


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def plugin_distribution(target: str | None) -> str | None:
    """The distribution of a Hydra launcher/sweeper class: hydra_plugins.<dist>.<module>.Class
    (hydra_plugins.hydra_joblib_launcher -> hydra-joblib-launcher); Hydra's own are hydra-core."""
    if not target:
        return None
    parts = target.split(".")
    if parts[0] == "hydra_plugins" and len(parts) > 1:
        return parts[1].replace("_", "-")
    return "hydra-core" if parts[0] == "hydra" else parts[0]


def versions(plugins: dict[str, str] | None = None) -> dict[str, str | None]:
    """{distribution: version} of PACKAGES and the given plugins ({role: distribution}), plus
    Python's own version."""
    names = [*PACKAGES, *(d for d in (plugins or {}).values() if d and d not in PACKAGES)]
    return {"python": platform.python_version(), **{name: package_version(name) for name in names}}


def git_state(*places: tuple[Path, str]) -> dict | None:
    """{commit, dirty, checkout} of the first (place, label) inside a git work tree; None if none
    is (or git is not installed). `dirty`: tracked files differ from the commit."""
    for place, label in places:
        try:
            commit = subprocess.run(
                ["git", "-C", str(place), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
            )
            if commit.returncode != 0:
                continue
            status = subprocess.run(
                ["git", "-C", str(place), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip()), "checkout": label}
    return None


def checkouts() -> tuple[tuple[Path, str], ...]:
    """Where a run's code may be in git: the working directory, else the seqexp package."""
    import seqexp

    return (Path.cwd(), "cwd"), (Path(seqexp.__file__).resolve().parent, "package")


def git_here() -> dict | None:
    """The git state of the working directory's checkout, else of the seqexp package's."""
    return git_state(*checkouts())


def git_patch(place: Path, limit: int = PATCH_LIMIT) -> tuple[bytes, bool]:
    """`git diff HEAD --binary` of the checkout at `place` (tracked files: staged and not) and
    whether it was cut: at most `limit` bytes, ending with a whole line. Git is stopped once the
    limit is passed, so a huge diff costs no more than a small one."""
    with subprocess.Popen(
        ["git", "-C", str(place), "diff", "HEAD", "--binary", "--no-color", "--no-ext-diff"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as git:
        text = git.stdout.read(limit + 1)
        cut = len(text) > limit
        if cut:
            git.kill()
            text = text[: text.rfind(b"\n", 0, limit) + 1]
    return text, cut


def untracked(place: Path) -> list[str]:
    """The checkout's untracked, not ignored files (a wholly untracked folder as one name/), from
    its top folder however deep `place` is."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(place), "ls-files", "--others", "--exclude-standard", "--directory"]
            + ["--full-name", "-z", "--", ":/"],  # the whole checkout's, named from its top
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [name.decode(errors="replace") for name in listed.stdout.split(b"\0") if name]


def keep_patch(run_dir: Path, env: dict, limit: int = PATCH_LIMIT) -> dict:
    """Save a dirty checkout's diff in the run directory and say so in env's `git`: `patch` (the
    file: code.patch; a resumed run's session its own code.resume-N.patch), `patch_bytes`,
    `patch_limit_bytes`, `patch_cut`; `untracked` names the files the patch leaves out."""
    git = env.get("git")
    if not git:
        return env
    place = {label: path for path, label in checkouts()}[git["checkout"]]
    git = {**git}
    others = untracked(place)
    if others:
        git["untracked"] = others[:UNTRACKED_NAMED]
        git["untracked_count"] = len(others)
    if git.get("dirty"):
        try:
            text, cut = git_patch(place, limit)
        except OSError:
            text, cut = b"", False
        if text or cut:
            before = read_env(run_dir)  # a resumed run: sessions before this one
            sessions = 0 if before is None else 1 + len(before.get("previous") or [])
            name = PATCH if not sessions else f"code.resume-{sessions}.patch"
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            with replacing(Path(run_dir) / name) as tmp:
                tmp.write_bytes(text)
            git.update(patch=name, patch_bytes=len(text), patch_limit_bytes=limit, patch_cut=cut)
    return {**env, "git": git}


def hydra_facts() -> dict:
    """The overrides and the launcher/sweeper plugins of the current Hydra job ({} outside one)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return {"overrides": [], "plugins": {}}
    hydra_cfg = HydraConfig.get()
    plugins = {
        role: plugin_distribution(hydra_cfg[role].get("_target_"))
        for role in ("launcher", "sweeper")
        if role in hydra_cfg
    }
    return {"overrides": list(hydra_cfg.overrides.task), "plugins": plugins}


def tensorflow_facts() -> dict:
    """The devices TensorFlow sees (GPU names from their details) and its CUDA/cuDNN build."""
    import tensorflow as tf
    from tensorflow.python.framework.config import is_op_determinism_enabled

    devices = []
    for device in tf.config.list_physical_devices():
        entry = {"name": device.name, "type": device.device_type}
        if device.device_type == "GPU":
            details = tf.config.experimental.get_device_details(device)
            entry.update({k: details[k] for k in ("device_name", "compute_capability") if k in details})
        devices.append(entry)
    build = tf.sysconfig.get_build_info()
    return {
        "devices": devices,
        "build": {
            "cuda": build.get("cuda_version"),
            "cudnn": build.get("cudnn_version"),
            "cuda_build": bool(build.get("is_cuda_build")),
        },
        "deterministic_ops": bool(is_op_determinism_enabled()),
    }


def jax_facts() -> dict:
    """The devices JAX sees, its versions and its XLA flags (JAX runs no TF op-determinism switch:
    XLA on the CPU computes the same result for the same program and inputs)."""
    import jax

    devices = [
        {"name": str(d), "type": d.platform.upper(), "device_name": d.device_kind} for d in jax.devices()
    ]
    return {
        "devices": devices,
        "build": {"jax": jax.__version__, "jaxlib": jax.lib.__version__},
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }


def capture(cfg, xla: bool) -> dict:
    """The environment of the run about to train with `cfg` (call once the model is compiled, so
    the op-determinism setting read is the run's); `xla`: whether XLA compiles the model."""
    hydra = hydra_facts()
    backend = cfg.trainer.get("backend", "tensorflow")
    backend_facts = jax_facts() if backend == "jax" else tensorflow_facts()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    return {
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": shlex.join(sys.argv),
        "overrides": hydra["overrides"],
        "git": git_here(),
        "versions": versions(hydra["plugins"]),
        "plugins": hydra["plugins"],
        "platform": {
            "system": platform.platform(),
            "machine": platform.machine(),
            "python_implementation": platform.python_implementation(),
        },
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "backend": backend,
        **backend_facts,
        "seed": int(cfg.trainer.seed),
        "jit_compile": bool(cfg.trainer.jit_compile),
        "fast": bool(cfg.trainer.get("fast", False)),
        "xla": xla,  # what ran: trainer.jit_compile, or trainer.fast on a model XLA speeds up
    }


def key_facts(env: dict) -> dict:
    """What metrics.json repeats of env.json: enough to tell two runs' environments apart."""
    git = env.get("git") or {}
    gpus = [d.get("device_name") or d["name"] for d in env.get("devices", []) if d.get("type") == "GPU"]
    return {
        "started": env.get("started"),
        "git_commit": git.get("commit"),
        "git_dirty": git.get("dirty"),
        **{name: version for name, version in (env.get("versions") or {}).items()},
        "gpus": gpus,
        "cuda": (env.get("build") or {}).get("cuda"),
        "backend": env.get("backend") or "tensorflow",  # runs from before trainer.backend: TF
        "seed": env.get("seed"),
        "deterministic_ops": env.get("deterministic_ops"),
    }


def read_env(run_dir: Path) -> dict | None:
    """A run directory's env.json (None: missing or unreadable)."""
    try:
        env = json.loads((Path(run_dir) / ENV).read_text())
    except (OSError, ValueError):
        return None
    return env if isinstance(env, dict) else None


def write_env(run_dir: Path, env: dict) -> dict:
    """Write env.json; a resumed run keeps the environments it ran under before in `previous`."""
    before = read_env(run_dir)
    if before is not None:
        previous = before.pop("previous", [])
        env = {**env, "previous": [*previous, before]}
    write_text(Path(run_dir) / ENV, json.dumps(env, indent=2, default=str) + "\n")
    return env


def version_changes(before: dict, now: dict) -> list[str]:
    """'tensorflow 2.20.0 -> 2.21.0' for every version that differs between two `versions` maps
    (a package present in only one of them included)."""
    changes = []
    for name in dict.fromkeys([*before, *now]):
        old, new = before.get(name), now.get(name)
        if old != new:
            changes.append(f"{name} {old or 'absent'} -> {new or 'absent'}")
    return changes


def changes_since(env: dict) -> list[str]:
    """What differs between a run's env.json and this installation: versions (the same plugins
    included) and the git commit. Reads package metadata only: no TensorFlow import."""
    recorded = env.get("versions") if isinstance(env.get("versions"), dict) else {}
    plugins = env.get("plugins") if isinstance(env.get("plugins"), dict) else {}
    changes = version_changes(recorded, versions(plugins))
    before = (env.get("git") or {}).get("commit")
    now = (git_here() or {}).get("commit")
    if before and now and before != now:
        changes.append(f"git commit {before[:12]} -> {now[:12]}")
    return changes
