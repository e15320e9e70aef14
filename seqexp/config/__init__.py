"""The config tree and the checks of its values, TensorFlow-free (the CLI imports it for --help).

checks     a config checked against the signatures of what it builds (`seqexp: error:` paragraphs)
types      the value types those signatures share, with their bounds
trainer    the trainer group's settings and their types (conf/trainer/default.yaml holds the values)
launchers  seqexp's presets of the joblib and Ray launchers, under the plugins' own names
"""

from pathlib import Path

# seqexp/conf links to the top-level conf/ in a checkout and is a real folder inside the wheel.
CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
