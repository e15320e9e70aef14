"""Which way a monitored metric improves: one rule for training and for sweep summaries.

Keras' own rule for mode=auto (accuracy-like metrics are maximised, everything else minimised),
kept free of TensorFlow so that `seqexp summarize` can rank runs without importing it.
"""

MAXIMISED = ("acc", "auc", "precision", "recall")


def best_mode(monitor: str, mode: str = "auto") -> str:
    """"min" or "max" for `monitor`; an explicit mode wins over the rule."""
    if mode in ("min", "max"):
        return mode
    return "max" if any(k in monitor for k in MAXIMISED) else "min"
