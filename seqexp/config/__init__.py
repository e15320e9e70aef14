"""The config tree and the checks of its values, TensorFlow-free (the CLI imports it for --help)."""

from pathlib import Path

# seqexp/conf links to the top-level conf/ in a checkout and is a real folder inside the wheel.
CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
