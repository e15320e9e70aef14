"""seqexp's presets of the joblib and Ray launchers, stored under the plugins' own names.

A YAML file conf/hydra/launcher/joblib.yaml beside the plugin's ConfigStore entry of the same
name makes Hydra print "'hydra/launcher/joblib' is validated against ConfigStore schema with the
same name. This behavior is deprecated in Hydra 1.1" on every command. So the presets are not
files: each replaces the plugin's entry with the plugin's own dataclass holding seqexp's values
(validated by that dataclass, as before). Hydra's plugin scan re-executes every plugin module,
re-storing the plugins' defaults, so it is run first (once per process, ~0.2 s; any Hydra
command runs it anyway) and the presets are stored after it.

joblib  n_jobs=2 jobs at a time, each in its own loky worker process; with trainer.threads=auto
        each job sizes TensorFlow's pools to cores / n_jobs (seqexp.run.runtime).
ray     ray.init.address=null starts a local Ray instance (auto: join this machine's cluster,
        ray://<head>:10001: Ray Client); ray.remote reserves num_cpus=1, num_gpus=0 per job,
        and the CPUs size the job's thread pools.
"""

from __future__ import annotations

import importlib
from dataclasses import replace

PRESETS = {  # name: (plugin module, its dataclass, seqexp's values)
    "joblib": ("hydra_plugins.hydra_joblib_launcher.config", "JobLibLauncherConf", {"n_jobs": 2}),
    "ray": (
        "hydra_plugins.hydra_ray_launcher._config",
        "RayLauncherConf",
        {
            "ray": {
                "init": {"address": None, "num_cpus": None, "include_dashboard": False},
                "remote": {"num_cpus": 1, "num_gpus": 0},
            }
        },
    ),
}


def register() -> None:
    from hydra.core.config_store import ConfigStore
    from hydra.core.plugins import Plugins

    Plugins.instance()  # the plugin scan, which stores the plugins' own configs
    store = ConfigStore.instance()
    for name, (module_name, class_name, values) in PRESETS.items():
        try:
            conf_class = getattr(importlib.import_module(module_name), class_name)
        except ImportError:  # the engine's extra is not installed: `hydra/launcher=...` says so
            continue
        node = conf_class()
        if "ray" in values:
            node = replace(node, ray=replace(node.ray, **values["ray"]))
            values = {}
        store.store(group="hydra/launcher", name=name, node=replace(node, **values), provider="seqexp")


# Sweeper and launcher settings whose range their plugin only checks when the sweep starts (an
# AssertionError in Hydra's basic sweeper, a ValueError deep in joblib) or never (sbatch refuses
# the array later): key under `hydra`, the lowest value allowed, what it counts.
LOWEST = {
    "sweeper.max_batch_size": (1, "jobs the basic sweeper launches per batch; null: all at once"),
    "launcher.timeout_min": (1, "minutes of wall-clock time per job"),
    "launcher.cpus_per_task": (1, "CPUs per job"),
    "launcher.gpus_per_node": (0, "GPUs per node"),
    "launcher.tasks_per_node": (1, "tasks per node"),
    "launcher.nodes": (1, "nodes per job"),
    "launcher.mem_gb": (0, "GB of memory per node"),
    "launcher.array_parallelism": (1, "array tasks running at once"),
    "launcher.ray.remote.num_cpus": (0, "CPUs Ray reserves per job"),
    "launcher.ray.remote.num_gpus": (0, "GPUs Ray reserves per job"),
}


def launcher_problems(hydra_node) -> list[str]:
    """Every sweeper or launcher setting of the composed `hydra` node that is out of range."""
    from omegaconf import OmegaConf

    problems = []
    for key, (lowest, what) in LOWEST.items():
        value = OmegaConf.select(hydra_node, key, default=None)
        if isinstance(value, int | float) and not isinstance(value, bool) and value < lowest:
            problems.append(f"hydra.{key}={value} must be at least {lowest} ({what})")
    n_jobs = OmegaConf.select(hydra_node, "launcher.n_jobs", default=None)
    if isinstance(n_jobs, int) and n_jobs == 0:
        problems.append(
            "hydra.launcher.n_jobs=0 runs no job; give the number of jobs at a time (e.g. 2), or -1 "
            "for one per core (-2: all cores but one)"
        )
    return problems
