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
