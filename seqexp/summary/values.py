"""Reading numbers and labels out of run files for tables and figures (shared by the summaries)."""

from __future__ import annotations

import math


def number(value) -> float | None:
    """`value` as a finite float, or None (missing, text, nan, inf, true/false: a hand-edited
    `"val_loss": true` is not a loss of 1, and `--where 'model.dropout>true'` compares nothing)."""
    if isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def short(value: str) -> str:
    """0.28402228054696615 -> 0.284 in labels (Optuna's samples); the CSV keeps every digit."""
    result = number(value)
    if result is None or "." not in value or len(value) <= 8:
        return value
    return f"{result:.4g}"


def scalar(value: str) -> str:
    """`[16]` (one stacked layer's units) reads as 16 on a numeric axis."""
    inner = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    return inner if "," not in inner and number(inner) is not None else value
