"""Checking a config against the signatures of what it builds: one source of truth per option.

A config node with a `_target_` (conf/data/jena.yaml -> seqexp.data.jena.load_jena) is checked
against that function's keyword parameters: a key it does not take is refused, a key it needs is
required, and each value must fit the parameter's type hint (types and bounds: see
seqexp.config.types). Rules between parameters (lookback vs step, a split's rows) are written
next to the loader or builder and attached with `@checked(prefix, rule, ...)`. The same checks run when the
function is called from Python. `check(cfg)` reports every bad value of a composed train config in
one SeqexpError, before TensorFlow is imported.

The YAML file holds the option's values; the signature holds its keys, types and rules.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal, Union

from omegaconf import DictConfig, ListConfig, OmegaConf
from pydantic import ConfigDict, TypeAdapter, ValidationError
from typing_extensions import Unpack, is_typeddict

from seqexp.config.types import KwargsOf
from seqexp.errors import SeqexpError

UNRESOLVED = object()  # a value only a running Hydra job can resolve (seqexp.config.checks.resolved)
SWITCH = "enabled"  # callbacks.<name>.enabled turns a built part on or off; not a parameter

# A rule reads the node's values and yields (key, value, what is wrong) for each bad one.
Rule = Callable[[dict], Iterable[tuple[str, Any, str]]]


class Problems:
    """Bad values found so far, each a sentence naming the key, the value and what is allowed."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, key: str, value, text: str) -> None:
        self.items.append(f"{key}={show(value)} {text}")

    def raise_if_any(self) -> None:
        if len(self.items) == 1:
            raise SeqexpError(f"{self.items[0]}.")
        if self.items:
            raise SeqexpError(f"{len(self.items)} bad config values: " + "; ".join(self.items) + ".")


def show(value) -> str:
    """A value as the user would type it on the command line."""
    if isinstance(value, (ListConfig, DictConfig)):
        value = OmegaConf.to_container(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def key_of(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


# ---- what a parameter's type hint allows, in words ---------------------------------------------

_NOUNS = {
    int: ("an integer", "integers"),
    float: ("a number", "numbers"),
    str: ("a string", "strings"),
    bool: ("true or false", "true or false"),
    dict: ("a mapping", "mappings"),
}


def _bounds(meta) -> dict:
    found = {}
    for item in meta:
        for constraint in getattr(item, "metadata", [item]):  # a pydantic FieldInfo, or annotated_types
            for name in ("ge", "gt", "le", "lt", "min_length", "max_length"):
                if getattr(constraint, name, None) is not None:
                    found[name] = getattr(constraint, name)
    return found


def _description(annotation) -> str | None:
    if typing.get_origin(annotation) is Annotated:
        for item in typing.get_args(annotation)[1:]:
            if getattr(item, "description", None):
                return item.description
    for arg in typing.get_args(annotation):
        found = _description(arg) if not isinstance(arg, str) else None
        if found:
            return found
    return None


def describe(annotation, plural: bool = False) -> str:
    """'an integer of at least 1', 'a number in [0, 1)', 'one of pre, post', ... ."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        base, meta = args[0], args[1:]
        text = describe(base, plural)
        bounds = _bounds(meta)
        if typing.get_origin(base) is list:
            if bounds.get("min_length") == bounds.get("max_length") and "min_length" in bounds:
                text = text.replace("a list of", f"a list of {bounds['min_length']}", 1)
            elif bounds.get("min_length", 0) >= 1:
                text = text.replace("a list", "a non-empty list", 1)
            return text
        return text + _range(bounds)
    if origin in (Union, types.UnionType):
        numbers = float in args  # an int is a number too: say "a number" once
        options = [describe(a, plural) for a in args if a is not type(None) and not (numbers and a is int)]
        text = " or ".join(options)
        return text + ", or null" if type(None) in args else text
    if origin is Literal:
        return "one of " + ", ".join(show(a) for a in args)
    if origin is list:
        return ("lists" if plural else "a list") + " of " + describe(args[0], plural=True)
    if annotation is type(None):
        return "null"
    if is_typeddict(annotation):
        keys = ", ".join(typing.get_type_hints(annotation))
        return f"{'mappings' if plural else 'a mapping'} with the keys {keys}"
    one, many = _NOUNS.get(annotation, (getattr(annotation, "__name__", str(annotation)),) * 2)
    return many if plural else one


def _range(bounds: dict) -> str:
    low = ("ge", bounds["ge"]) if "ge" in bounds else ("gt", bounds["gt"]) if "gt" in bounds else None
    high = ("le", bounds["le"]) if "le" in bounds else ("lt", bounds["lt"]) if "lt" in bounds else None
    if low and high:
        if low[0] == "gt" and high[0] == "lt":
            return f" strictly between {low[1]} and {high[1]}"
        return f" in {'[' if low[0] == 'ge' else '('}{low[1]}, {high[1]}{']' if high[0] == 'le' else ')'}"
    if low:
        return f" of at least {low[1]}" if low[0] == "ge" else f" above {low[1]}"
    if high:
        return f" of at most {high[1]}" if high[0] == "le" else f" below {high[1]}"
    return ""


# ---- checking values ---------------------------------------------------------------------------


@functools.cache
def _adapter(text: str, annotation) -> TypeAdapter:
    # Strict: a string is never read as a number nor 1 as true. Cached by the hint's text.
    return TypeAdapter(annotation, config=ConfigDict(strict=True))


def _fits(annotation, value) -> bool:
    try:
        _adapter(repr(annotation), annotation).validate_python(value)
    except ValidationError:
        return False
    return True


def _nested(annotation):
    """(how to check inside, what with, None allowed) for a mapping parameter, else None."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (Union, types.UnionType) and type(None) in args and len(args) == 2:
        inner = _nested(next(a for a in args if a is not type(None)))
        return None if inner is None else (inner[0], inner[1], True)
    if origin is Annotated:
        marker = next((m for m in args[1:] if isinstance(m, KwargsOf)), None)
        if marker is not None:
            return ("kwargs", marker.function, False)
        return _nested(args[0])
    if is_typeddict(annotation):
        return ("fields", annotation, False)
    return None


def check_value(key: str, value, annotation, problems: Problems) -> None:
    nested = _nested(annotation)
    if nested is None:
        if not _fits(annotation, value):
            description = _description(annotation)
            problems.add(
                key, value, f"must be {describe(annotation)}" + (f" ({description})" if description else "")
            )
        return
    how, what, nullable = nested
    if value is None and nullable:
        return
    if not isinstance(value, dict):
        problems.add(key, value, f"must be {describe(annotation)}")
    elif how == "kwargs":
        check_arguments(what, value, key, problems)
    else:
        hints = typing.get_type_hints(what, include_extras=True)
        fields = {name: (hint, name not in what.__required_keys__) for name, hint in hints.items()}
        _check_fields(fields, value, key, problems, what=f"{key}")


def _check_fields(
    fields: dict, values: dict, prefix: str, problems: Problems, what: str, own: set | None = None
) -> None:
    for key in values:
        if key.startswith("_") or key == SWITCH:
            continue  # Hydra's _target_/_partial_, and the on/off switch
        if key not in fields:
            keys = ", ".join(fields)
            problems.add(key_of(prefix, key), values[key], f"is not a key of {what}; its keys are {keys}")
    for name, (annotation, optional) in fields.items():
        if name not in values:
            if not optional:
                problems.items.append(
                    f"{key_of(prefix, name)} is missing: {what} needs it ({describe(annotation)})"
                )
            continue
        if own is None or name in own:  # an interpolated value is checked where it is set
            check_value(key_of(prefix, name), values[name], annotation, problems)


@functools.cache
def parameters(function: Callable) -> dict[str, tuple[Any, bool]]:
    """{name: (type hint, has a default)} of the keyword parameters a config may set.

    Positional-only parameters (a builder's `spec`, a layer's input) come from the run, not the
    config. `**shared: Unpack[SomeTypedDict]` adds that TypedDict's fields: options several
    functions share are written once."""
    function = inspect.unwrap(function)
    hints = typing.get_type_hints(function, include_extras=True)
    found = {}
    for name, p in inspect.signature(function).parameters.items():
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
            found[name] = (hints.get(name, Any), p.default is not inspect.Parameter.empty)
        elif p.kind is p.VAR_KEYWORD and typing.get_origin(hints.get(name)) is Unpack:
            (shared,) = typing.get_args(hints[name])
            required = shared.__required_keys__
            for field, hint in typing.get_type_hints(shared, include_extras=True).items():
                found[field] = (hint, field not in required)
    return found


def check_arguments(
    function: Callable, values: dict, prefix: str, problems: Problems, own: set | None = None
) -> None:
    """Check `values` as the keyword arguments of `function`: keys, types, bounds, then its rules."""
    before = len(problems.items)
    what = prefix or function.__name__
    _check_fields(parameters(function), values, prefix, problems, what, own)
    if len(problems.items) == before:  # rules may assume every value has its type
        for rule in getattr(function, "config_rules", ()):
            for key, value, text in rule(values):
                problems.add(key_of(prefix, key), value, text)


def checked(prefix: str, *checks: Rule):
    """Attach cross-parameter rules to a loader or builder, and check every call against its
    signature and rules: a direct Python call is refused with the same messages as the CLI's.
    `prefix` is where the function's options sit in the config (data, model, model.embedding)."""

    def decorate(function):
        @functools.wraps(function)
        def call(*args, **kwargs):
            signature = inspect.signature(function)
            bound = signature.bind_partial(*args, **kwargs)
            names = parameters(function)
            values = {}
            for name, value in bound.arguments.items():
                if signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
                    values.update({k: _plain(v) for k, v in value.items()})  # **shared: Unpack[...]
                elif name in names:
                    values[name] = _plain(value)
            problems = Problems()
            check_arguments(call, values, prefix, problems)
            problems.raise_if_any()
            return function(*args, **kwargs)

        call.config_rules = checks
        return call

    return decorate


def _plain(value):
    """A Hydra-instantiated argument (DictConfig / ListConfig) as plain Python values."""
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    return value


# ---- the train config --------------------------------------------------------------------------


def resolved(node: DictConfig) -> tuple[dict, set]:
    """(the node's values, resolved; the keys set here, not interpolated from elsewhere).

    A value only a running job can resolve (`${hydra:runtime.output_dir}` when the config was
    composed outside one, e.g. by `seqexp search`) is left out of the check: it is a path that
    Hydra fills in, not something a user typed."""
    values, own = {}, set()
    for key in node:
        try:
            value = node[key]
            values[key] = (
                OmegaConf.to_container(value, resolve=True)
                if isinstance(value, (DictConfig, ListConfig))
                else value
            )
        except Exception:  # noqa: BLE001 - any resolver error: the job resolves it later
            values[key] = UNRESOLVED
            continue
        if not OmegaConf.is_interpolation(node, key):
            own.add(key)
    return values, own


def check_node(node: DictConfig, prefix: str, problems: Problems) -> None:
    """A node with a `_target_`: against the target's signature."""
    from hydra.utils import get_method

    try:
        function = get_method(node._target_)
    except Exception as err:  # an unknown _target_: Hydra's message names the module it tried
        problems.add(f"{prefix}._target_", node._target_, f"cannot be imported ({err})")
        return
    values, own = resolved(node)
    check_arguments(function, values, prefix, problems, own)


def check(cfg: DictConfig) -> None:
    """Refuse every bad value of a composed train config in one SeqexpError, before TensorFlow
    is imported: data, model and optimizer against their targets' signatures, each enabled
    callback against its factory's, and trainer against seqexp.config.trainer.Trainer."""
    from seqexp.config.trainer import Trainer

    problems = Problems()
    if isinstance(cfg.get("trainer"), DictConfig):
        trainer = cfg.trainer
        own = {k for k in trainer if not OmegaConf.is_interpolation(trainer, k)}
        hints = typing.get_type_hints(Trainer, include_extras=True)
        fields = {name: (hint, name not in Trainer.__required_keys__) for name, hint in hints.items()}
        _check_fields(
            fields, OmegaConf.to_container(trainer, resolve=True), "trainer", problems, "trainer", own
        )
        if trainer.get("backend") == "jax":  # tf.distribute has no JAX counterpart here
            for key in ("strategy", "cpu_devices"):
                if trainer.get(key) is not None:
                    problems.add(
                        f"trainer.{key}",
                        trainer.get(key),
                        "needs tf.distribute, which runs on trainer.backend=tensorflow only; "
                        "with trainer.backend=jax leave it null (one device)",
                    )
    for group in ("data", "model", "optimizer"):
        if isinstance(cfg.get(group), DictConfig) and "_target_" in cfg[group]:
            check_node(cfg[group], group, problems)
    for name, node in (cfg.get("callbacks") or {}).items():
        if isinstance(node, DictConfig) and "_target_" in node:
            check_node(node, f"callbacks.{name}", problems)
    problems.raise_if_any()
