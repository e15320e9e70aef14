"""Which Keras backend a process runs (`trainer.backend`): chosen once, before Keras is imported.

Keras reads KERAS_BACKEND when it is first imported and cannot switch afterwards without
invalidating every model and layer already made, so a process that already loaded Keras under
one backend cannot run a job on another: the job runner (seqexp.cli.hydra_app) then runs that job
in a fresh process, and in-process callers (tests, seqexp.run.train) get a refusal naming both.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from seqexp.errors import SeqexpError

BACKENDS = ("tensorflow", "jax")
DEFAULT = "tensorflow"
log = logging.getLogger(__name__)
QUIET_LEVEL = "3"  # TF_CPP_MIN_LOG_LEVEL: C++ errors too ("failed call to cuInit ... (303)")

# What the backend's C++ libraries printed while Keras loaded (quiet_start), for train.log.
startup_messages = ""


def take_startup_messages() -> str:
    """The held-back start-up lines, once: the run that loaded Keras logs them, later jobs of the
    same process (an in-process sweep) did not load it."""
    global startup_messages
    messages, startup_messages = startup_messages, ""
    return messages


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
        # TensorFlow's C++ log lines (no CUDA driver on a CPU machine: "failed call to cuInit ...
        # (303)") are noise to a user: failures still reach Python as exceptions. A level the
        # user set is kept (TF_CPP_MIN_LOG_LEVEL=0 shows them all).
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET_LEVEL)
        if backend == "jax":
            # "Unable to initialize backend 'tpu'" on every machine without one: not news
            logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)
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


@contextmanager
def quiet_start() -> Iterator[None]:
    """Load Keras inside this block with what the backend's C++ libraries print on stderr while
    they load kept off the console, into `startup_messages` (train.log gets them). Those lines
    ("Could not find cuda drivers on your machine") come before TF_CPP_MIN_LOG_LEVEL is read, so
    only the file descriptor can hold them back. Nothing is held back when Keras is already
    loaded or the user chose TF_CPP_MIN_LOG_LEVEL; if loading fails, they are shown."""
    global startup_messages
    if loaded() is not None or os.environ.get("TF_CPP_MIN_LOG_LEVEL") != QUIET_LEVEL:
        yield
        return
    log.info("Loading Keras with the %s backend...", os.environ.get("KERAS_BACKEND", DEFAULT))
    with tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            startup_messages = sink.read().decode("utf-8", "replace")
            if failed:
                sys.stderr.write(startup_messages)
