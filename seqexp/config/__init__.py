"""The config tree and the checks of its values, TensorFlow-free (the CLI imports it for --help)."""

from pathlib import Path

# seqexp/conf links to the top-level conf/ in a checkout and is a real folder inside the wheel.
CONF_DIR = Path(__file__).resolve().parents[1] / "conf"

from seqexp.config import schema  # noqa: E402

schema.register()  # the structured-config schemas the conf/ options name in their defaults

from seqexp.config import launchers  # noqa: E402

launchers.register()  # the joblib and ray presets (no YAML file may share the plugins' names)
