"""The optimizers a config can name (conf/optimizer/<name>.yaml -> one function here).

Each function's signature is its option's schema; it builds the Keras optimizer of the same name
(Keras is imported only then). Weight decay and gradient clipping, which every Keras optimizer
takes, are `Shared` (written once); only one of the three clipping settings may be set.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict, Unpack

from seqexp.config.checks import checked
from seqexp.config.types import NonNegativeNumber, PositiveNumber

LearningRate = Annotated[float, Field(gt=0, allow_inf_nan=False, description="e.g. 1e-3")]
Beta = Annotated[float, Field(ge=0, lt=1)]


class Shared(TypedDict):
    """What every Keras optimizer takes besides its own settings (null: off)."""

    weight_decay: NonNegativeNumber | None  # decoupled weight decay
    clipnorm: PositiveNumber | None  # clip each gradient to this norm
    clipvalue: PositiveNumber | None  # clip each gradient value to [-v, v]
    global_clipnorm: PositiveNumber | None  # clip all gradients together to this norm


CLIPPING = ("clipnorm", "clipvalue", "global_clipnorm")


def one_clipping(values: dict):
    given = [key for key in CLIPPING if values[key] is not None]
    for key in given[1:]:
        yield (
            key,
            values[key],
            f"cannot be set together with optimizer.{given[0]} (Keras takes one "
            "of clipnorm, clipvalue and global_clipnorm)",
        )


@checked("optimizer", one_clipping)
def rmsprop(*, learning_rate: LearningRate, rho: Beta, **shared: Unpack[Shared]):
    import keras

    return keras.optimizers.RMSprop(learning_rate=learning_rate, rho=rho, **shared)


@checked("optimizer", one_clipping)
def adam(*, learning_rate: LearningRate, beta_1: Beta, beta_2: Beta, **shared: Unpack[Shared]):
    import keras

    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, **shared)


@checked("optimizer", one_clipping)
def sgd(*, learning_rate: LearningRate, momentum: NonNegativeNumber, **shared: Unpack[Shared]):
    import keras

    return keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum, **shared)


@checked("optimizer", one_clipping)
def adagrad(*, learning_rate: LearningRate, **shared: Unpack[Shared]):
    import keras

    return keras.optimizers.Adagrad(learning_rate=learning_rate, **shared)
