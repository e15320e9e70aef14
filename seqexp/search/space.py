"""The search space: `params` of an hparams_search config, in Hydra's sweep syntax, parsed by
Hydra's own override parser into Optuna distributions, and a trial's samples back into
overrides of `seqexp train`.

  interval(0.0, 0.5)            FloatDistribution(0.0, 0.5)
  tag(log, interval(1e-4, 1e-2)) FloatDistribution(1e-4, 1e-2, log=True)
  int(interval(8, 64))          IntDistribution(8, 64)
  range(8, 65, 8)               IntDistribution(8, 64, step=8)
  choice(16, 32, 64)            CategoricalDistribution((16, 32, 64))
  choice([8],[16,8])            categorical over the texts "[8]", "[16,8]" (Optuna stores scalars)
"""

from __future__ import annotations

import itertools

from seqexp.errors import SeqexpError

SYNTAX = (
    "interval(low, high), int(interval(low, high)), range(start, stop[, step]), "
    "choice(a, b, ...), each optionally inside tag(log, ...)"
)


def parse(params: dict) -> dict:
    """{key: optuna distribution} for every entry of `params`."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    if not params:
        raise SeqexpError(
            f"hparams_search.params is empty: give at least one parameter, e.g. "
            f"model.dropout: interval(0.0, 0.5) ({SYNTAX})."
        )
    parser = OverridesParser.create()
    space = {}
    for key, text in params.items():
        try:
            override = parser.parse_override(f"{key}={text}")
        except HydraException as err:
            raise SeqexpError(
                f"hparams_search.params.{key}={text} cannot be parsed ({err}); use {SYNTAX}."
            ) from None
        try:
            space[key] = distribution(key, text, override)
        except ValueError as err:  # Optuna's own checks: low > high, log of a value <= 0, ...
            raise SeqexpError(
                f"hparams_search.params.{key}={text} is not a valid range: {err} ({SYNTAX})."
            ) from None
    return space


def distribution(key: str, text: str, override):
    from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    value = override.value()
    log = "log" in getattr(value, "tags", set())
    if isinstance(value, IntervalSweep):
        if not value.start <= value.end:
            raise SeqexpError(
                f"hparams_search.params.{key}={text}: its low end {value.start} is above its high "
                f"end {value.end}; write interval(low, high) with low <= high."
            )
        if isinstance(value.start, int) and isinstance(value.end, int):
            return IntDistribution(value.start, value.end, log=log)
        return FloatDistribution(float(value.start), float(value.end), log=log)
    if isinstance(value, RangeSweep) and not log:
        start, stop, step = value.start, value.stop, value.step
        if all(isinstance(v, int) for v in (start, stop, step)) and step > 0 and stop > start:
            return IntDistribution(start, stop - 1 - (stop - 1 - start) % step, step=step)
        raise SeqexpError(
            f"hparams_search.params.{key}={text} holds no value: range(start, stop, step) needs "
            f"whole numbers with start < stop and step > 0 (stop excluded), e.g. range(8, 65, 8)."
        )
    if isinstance(value, ChoiceSweep) and not log:
        choices = tuple(
            v if isinstance(v, bool | int | float | str) else override._get_value_element_as_str(v)
            for v in value.list
        )
        if choices:
            return CategoricalDistribution(choices)
    raise SeqexpError(
        f"hparams_search.params.{key}={text} is not a search space; use {SYNTAX} "
        "(tag(log, ...) only around an interval)."
    )


def grid(space: dict) -> dict[str, list]:
    """The grid sampler's {key: values}: every parameter must have finitely many values."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    values = {}
    for key, dist in space.items():
        if isinstance(dist, CategoricalDistribution):
            values[key] = list(dist.choices)
        elif isinstance(dist, IntDistribution) and not dist.log:
            values[key] = list(range(dist.low, dist.high + 1, dist.step))
        else:
            raise SeqexpError(
                f"hparams_search.sampler=grid needs finitely many values per "
                f"parameter; hparams_search.params.{key} is continuous. Use "
                f"choice(...) or range(...) for it, or another sampler."
            )
    return values


def grid_size(space: dict) -> int:
    return len(list(itertools.product(*grid(space).values())))


def possible_overrides(space: dict) -> list[str]:
    """One override per value a categorical parameter can take, one per other parameter: what
    a trial may replay (checked against seqexp.run.identity's trusted targets on resume)."""
    from optuna.distributions import CategoricalDistribution

    found = []
    for key, dist in space.items():
        values = dist.choices if isinstance(dist, CategoricalDistribution) else (dist.low,)
        found += [f"{key}={value}" for value in values]
    return found


def suggest(trial, space: dict) -> list[str]:
    """Sample (or, for a resumed trial, read back) every parameter; returns the overrides."""
    from optuna.distributions import FloatDistribution, IntDistribution

    overrides = []
    for key, dist in space.items():
        if isinstance(dist, FloatDistribution):
            value = trial.suggest_float(key, dist.low, dist.high, log=dist.log)
        elif isinstance(dist, IntDistribution):
            value = trial.suggest_int(key, dist.low, dist.high, step=dist.step, log=dist.log)
        else:
            value = trial.suggest_categorical(key, dist.choices)
        if isinstance(value, float):
            value = repr(value)
        overrides.append(f"{key}={value}")
    return overrides
