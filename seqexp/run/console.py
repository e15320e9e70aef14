"""What a run says on the console: a short header before anything loads, the backend and device
once they are known, and closing lines with the best epoch, the metrics and the run directory.
The whole composed config goes to train.log (and .hydra/config.yaml), not to the console."""

from __future__ import annotations

import os
from pathlib import Path


def shown_path(path: Path) -> str:
    """The run directory as the user can type it: relative to the current folder when inside it."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
    except (OSError, ValueError):
        return str(path)


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def header(cfg, run_dir: Path, data_name: str, model_name: str) -> list[str]:
    """The run's first console lines: where it writes, what it trains on what, how."""
    trainer = cfg.trainer
    source = cfg.data.get("path") or cfg.data.get("cache_dir")
    steps = f", {trainer.steps_per_epoch} steps per epoch" if trainer.get("steps_per_epoch") else ""
    rate = cfg.optimizer.get("learning_rate")
    optimizer_name = str(cfg.optimizer.get("_target_", "optimizer")).rsplit(".", 1)[-1]
    epochs = f"{trainer.epochs} epoch{'s' if trainer.epochs != 1 else ''}"
    return [
        f"Run dir: {shown_path(run_dir)} (full config: train.log, .hydra/config.yaml)",
        f"Data: {data_name}" + (f" ({source})" if source else "") + f"   Model: {model_name}",
        f"Training: {epochs}, batch size {trainer.batch_size}{steps}, {optimizer_name} "
        f"(learning rate {_number(rate)}), monitor {trainer.monitor}, seed {trainer.seed}",
    ]


def device_line(env: dict) -> str:
    """The backend and the devices the run uses (env.json's facts)."""
    backend = env.get("backend") or "tensorflow"
    version = (env.get("versions") or {}).get(backend) or (env.get("build") or {}).get(backend)
    gpus = [d.get("device_name") or d.get("name") for d in env.get("devices", []) if d.get("type") == "GPU"]
    where = (
        f"{len(gpus)} GPU(s): {', '.join(map(str, gpus))}"
        if gpus
        else f"CPU ({env.get('cpus_usable')} cores)"
    )
    xla = ", XLA" if env.get("xla") else ""
    return f"Backend: {backend}{' ' + version if version else ''} on {where}{xla}"


def closing(record, monitor: str, run_dir: Path) -> list[str]:
    """The run's last console lines: the best epoch and its value, the test metrics, where it all is."""
    best = (record.best or {}).get(monitor)
    value = "not logged" if best is None else f"{best:.4f}"
    if record.best_epoch:
        when = f"at epoch {record.best_epoch} of {record.epochs_run}"
        when += f"; test split evaluated with the {record.weights}"
    else:
        when = "without training (the model has no weights to fit)"
    lines = [f"Best {monitor} = {value} {when}"]
    lines.append("Best epoch: " + _metrics(record.best))
    lines.append("Test: " + _metrics(record.test))
    reference = record.reference
    if reference is not None:
        ours, difference = reference.get("ours"), reference.get("difference")
        lines.append(
            f"{reference['metric']}: ours {'not logged' if ours is None else f'{ours:.4f}'}, "
            f"{reference['source']} {reference['value']} "
            f"(difference {'–' if difference is None else f'{difference:+.4f}'})"
        )
    lines.append(f"Run dir: {shown_path(run_dir)} (seqexp runs lists it; seqexp diff compares two)")
    return lines


def _metrics(metrics: dict | None) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in (metrics or {}).items() if v is not None) or "none"
