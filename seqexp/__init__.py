"""seqexp: Hydra-driven deep-learning experiments on sequences, text and images."""

from pathlib import Path

from omegaconf import OmegaConf

__version__ = "0.1.0"

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"

# `${sample:<file>}` in a config: a small dataset bundled with the package (offline first runs).
OmegaConf.register_new_resolver("sample", lambda name: str(SAMPLES_DIR / name), replace=True)
