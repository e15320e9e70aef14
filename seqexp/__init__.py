"""seqexp: Hydra-driven deep-learning experiments on sequences, text and images.

Packages: cli (the commands), config (the config tree and its checks), run (training one run),
search (Optuna), serve (predict, export), summary (tables of runs), data (one module per dataset),
models (builders), reports (what a run draws and writes besides metrics), text (vocabulary,
generation); each __init__ lists its modules. Dependencies point one way, with no cycle: nothing
imports cli, and the shared helpers here import no package:

  atomic     file writes that a kill never tears
  interrupt  Ctrl-C and SIGTERM, held while a file is written
  readback   reading seqexp's own files back, naming a torn or hand-edited one
  errors     the one exception type for user mistakes
  table      a table on a terminal, plain text in a pipe: every listing command prints through it
  backend    which Keras backend a process runs (trainer.backend), chosen before Keras loads;
             which backends are installed here
"""

from pathlib import Path

from omegaconf import OmegaConf

__version__ = "0.1.0"

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"

# `${sample:<file>}` in a config: a small dataset bundled with the package (offline first runs).
OmegaConf.register_new_resolver("sample", lambda name: str(SAMPLES_DIR / name), replace=True)
