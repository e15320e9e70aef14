"""Value types the loaders', builders' and trainer's signatures share, with their constraints.

A parameter's type hint is its whole schema: `lookback: PositiveInt` says "an integer of at least 1"
once, and seqexp.config.checks derives the type check, the range check and the message from it.
pydantic's `Field` carries the bounds (ge, gt, lt, min_length) and an optional description that
the message repeats in brackets. TensorFlow-free: the CLI checks a config before importing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
PositiveNumber = Annotated[float, Field(gt=0)]
NonNegativeNumber = Annotated[float, Field(ge=0)]
DropFraction = Annotated[float, Field(ge=0, lt=1, description="the fraction of units dropped")]
OpenFraction = Annotated[float, Field(gt=0, lt=1)]  # a share held out: neither nothing nor all
Mode = Literal["min", "max", "auto"]
PadSide = Literal["pre", "post"]  # keras.utils.pad_sequences' padding / truncating
BatchSize = Annotated[int, Field(ge=1)]
# Words appended to a prompt (generate, predict, headlines' samples): one model call each, so a
# typo such as 10**20 would run forever; a thousand is far beyond a headline.
MAX_WORDS = 1000
GeneratedWords = Annotated[int, Field(ge=1, le=MAX_WORDS, description="words appended to a prompt")]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1, description="the seed range of NumPy and TensorFlow")]


@dataclass(frozen=True)
class KwargsOf:
    """Marks a mapping parameter whose keys are the keyword parameters of `function`, e.g.
    `embedding: Annotated[dict, KwargsOf(token_vectors)]`: the mapping is checked against that
    function's own signature (and rules), so its options are written once, where it is."""

    function: Callable
