"""Which Keras backend a process runs (`trainer.backend`): chosen once, before Keras is imported.

Keras reads KERAS_BACKEND when it is first imported and cannot switch afterwards without
invalidating every model and layer already made, so a process that already loaded Keras under
one backend cannot run a job on another: the job runner (seqexp.cli.hydra_app) then runs that job
in a fresh process, and in-process callers (tests, seqexp.run.train) get a refusal naming both.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from seqexp.errors import SeqexpError

BACKENDS = ("tensorflow", "jax")
DEFAULT = "tensorflow"


def installed(backend: str) -> bool:
    """Whether `backend`'s package can be imported here, asked without importing it (a JAX-only
    machine, a GPU one with CUDA 13 say, has no TensorFlow)."""
    try:
        return importlib.util.find_spec(backend) is not None
    except (ImportError, ValueError):  # a parent package that fails, or a broken install
        return False


def loaded() -> str | None:
    """The backend of the Keras this process imported (None: Keras not imported yet)."""
    if "keras" not in sys.modules:
        return None
    import keras

    return keras.backend.backend()


def wanted(cfg) -> str:
    """The backend a composed config asks for (configs without a trainer: the default)."""
    trainer = cfg.get("trainer") if hasattr(cfg, "get") else None
    return (trainer.get("backend") if trainer is not None else None) or DEFAULT


def can_use(backend: str) -> bool:
    """Whether this process can run `backend`: Keras not imported yet, or imported under it."""
    return loaded() in (None, backend)


def choose(backend: str) -> None:
    """Make Keras load with `backend`, or refuse when it already runs another one here."""
    current = loaded()
    if current is None:
        os.environ["KERAS_BACKEND"] = backend
        if backend == "jax":
            # XLA's CPU client: no TensorFlow-style thread pools, and no preallocation of a GPU's
            # memory (one job per device is the rule, but a sweep may share one)
            os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        return
    if current != backend:
        raise SeqexpError(
            f"trainer.backend={backend}, but this process already loaded Keras with the {current} "
            f"backend, and Keras cannot switch backends inside one process. Run it as its own "
            f"`seqexp train ... trainer.backend={backend}` (the seqexp command starts a fresh process "
            f"for a job on another backend)."
        )
