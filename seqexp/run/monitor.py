"""The monitored metric: which value picks the best epoch, the checkpoint and early stopping.

`best_mode` is Keras' own rule for mode=auto (accuracy-like metrics are maximised, everything
else minimised), kept free of TensorFlow so that the sweep summary can rank runs without it.
`settle` decides the run's monitor once, before fitting, from the config and what the run logs;
the callbacks are then built with it (the composed config is never changed during a run).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)

MAXIMISED = ("acc", "auc", "precision", "recall")


def best_mode(monitor: str, mode: str | None = "auto") -> str:
    """ "min" or "max" for `monitor`; an explicit mode wins over the rule."""
    if mode in ("min", "max"):
        return mode
    return "max" if any(k in monitor for k in MAXIMISED) else "min"


@dataclass(frozen=True)
class Monitor:
    name: str  # e.g. val_loss, as Keras logs it
    mode: str  # min or max

    def best(self, values):
        """The best of `values` by this monitor's direction."""
        return max(values) if self.mode == "max" else min(values)

    def best_index(self, values) -> int | None:
        """Index of the first best finite value (a nan epoch never wins), None if none is finite."""
        finite = [i for i, value in enumerate(values) if math.isfinite(value)]
        pick = max if self.mode == "max" else min
        return pick(finite, key=values.__getitem__) if finite else None


def logged_names(metrics: list[str], has_validation: bool) -> list[str]:
    """Every name Keras logs for these compiled metrics (val_ ones only with a validation split)."""
    names = ["loss", *metrics]
    return names + ([f"val_{m}" for m in names] if has_validation else [])


def settle(
    requested: str,
    mode: str,
    logged: list[str],
    has_validation: bool,
    callback_monitors: dict[str, str | None],
    data_name: str = "",
) -> Monitor:
    """The run's monitor, and a check that every monitor the config names is logged.

    With no validation split (e.g. WD headlines) a val_ monitor falls back to its training value.
    `callback_monitors`: {"callbacks.checkpoint.monitor": value or None (= the run's)}.
    """
    if not has_validation and requested.startswith("val_"):
        log.warning(
            "data=%s has no validation split: checkpoint and early stopping monitor %s "
            "instead of %s (and so does the best epoch)",
            data_name,
            requested[4:],
            requested,
        )
        requested = requested[4:]
    named = {"trainer.monitor": requested, **callback_monitors}
    bad = [f"{key}={value}" for key, value in named.items() if value is not None and value not in logged]
    if bad:
        raise SeqexpError(
            f"{' and '.join(bad)} {'is' if len(bad) == 1 else 'are'} not logged by this "
            f"run; choose one of {logged}."
        )
    return Monitor(requested, best_mode(requested, mode))
