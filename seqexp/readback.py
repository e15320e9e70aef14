"""Reading back the files seqexp wrote (metrics.json, overrides.yaml, history.csv, vocabulary.json,
preprocessing.json, the backup's epoch record): any of them may be missing, torn or edited by
hand, so a reader names the file and what is wrong in it (a DamagedFile, a SeqexpError) instead
of failing with a traceback, or worse, going on with half a file.

TensorFlow-free: `seqexp resume`, `seqexp runs` and the sweep summary read through here.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from seqexp.errors import SeqexpError

KINDS = {
    dict: "an object",
    list: "a list",
    str: "text",
    int: "an integer",
    float: "a number",
    bool: "true/false",
}


class DamagedFile(SeqexpError):
    """A file seqexp wrote that is unreadable, torn or not in the shape seqexp writes."""

    def __init__(self, path: Path, problem: str, fix: str = ""):
        super().__init__(f"{path} is damaged or was edited by hand: {problem}.{' ' + fix if fix else ''}")
        self.path, self.problem = Path(path), problem


def _text(path: Path, fix: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DamagedFile(path, "it is missing", fix) from None
    except UnicodeDecodeError as err:
        raise DamagedFile(path, f"byte {err.start} is not UTF-8 text", fix) from None
    except OSError as err:
        raise DamagedFile(path, f"it cannot be read ({err.strerror or err})", fix) from None


def _kind(value) -> str:
    return "null" if value is None else KINDS.get(type(value), type(value).__name__)


def json_object(path: Path, required: dict[str, type | tuple] | None = None, fix: str = "") -> dict:
    """A JSON object with at least the `required` keys, each of its type(s)."""
    text = _text(path, fix)
    try:
        value = json.loads(text)
    except ValueError as err:
        where = f" at line {err.lineno}, column {err.colno}" if isinstance(err, json.JSONDecodeError) else ""
        reason = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
        cut = " (cut short)" if not text.strip() or not text.rstrip().endswith("}") else ""
        raise DamagedFile(path, f"it is not valid JSON{cut}: {reason}{where}", fix) from None
    if not isinstance(value, dict):
        raise DamagedFile(path, f"it holds {_kind(value)}, not a JSON object", fix)
    for key, kinds in (required or {}).items():
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        if key not in value:
            raise DamagedFile(path, f"it has no {key!r} entry", fix)
        if not isinstance(value[key], kinds) or (bool not in kinds and isinstance(value[key], bool)):
            wanted = " or ".join(KINDS.get(k, k.__name__) for k in kinds)
            raise DamagedFile(path, f"its {key!r} is {_kind(value[key])}, not {wanted}", fix)
    return value


def json_list(path: Path, fix: str = "") -> list:
    """A JSON list (e.g. a run's input_tokens.json)."""
    text = _text(path, fix)
    try:
        value = json.loads(text)
    except ValueError as err:
        raise DamagedFile(path, f"it is not valid JSON ({err})", fix) from None
    if not isinstance(value, list):
        raise DamagedFile(path, f"it holds {_kind(value)}, not a JSON list", fix)
    return value


def _yaml(path: Path, fix: str):
    """The YAML value of a file; a file that is not YAML is named with the line of the problem."""
    import yaml

    text = _text(path, fix)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise DamagedFile(
            path, f"it is not valid YAML{where} ({getattr(err, 'problem', None) or err})", fix
        ) from None


def yaml_strings(path: Path, fix: str = "") -> list[str]:
    """A YAML list of strings (Hydra's .hydra/overrides.yaml)."""

    value = _yaml(path, fix)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DamagedFile(
            path, f"it holds {_kind(value)}, not a list of overrides such as '- model=gru'", fix
        )
    return value


def yaml_object(path: Path, required: dict[str, type | tuple] | None = None, fix: str = "") -> dict:
    """A YAML mapping with at least the `required` keys, each of its type(s) (a search's
    search.yaml)."""

    value = _yaml(path, fix)
    if not isinstance(value, dict):
        raise DamagedFile(path, f"it holds {_kind(value)}, not a mapping", fix)
    for key, kinds in (required or {}).items():
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        if key not in value:
            raise DamagedFile(path, f"it has no {key!r} entry", fix)
        if not isinstance(value[key], kinds):
            wanted = " or ".join(KINDS.get(k, k.__name__) for k in kinds)
            raise DamagedFile(path, f"its {key!r} is {_kind(value[key])}, not {wanted}", fix)
    return value


def csv_numbers(path: Path, fix: str = "") -> list[dict[str, float]]:
    """The rows of a CSV of numbers (history.csv), every cell a number (nan and inf allowed)."""
    text = _text(path, fix)
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as err:
        raise DamagedFile(path, f"it is not CSV ({err})", fix) from None
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    table = []
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise DamagedFile(path, f"line {number} has {len(row)} fields, the header {len(header)}", fix)
        values = {}
        for key, cell in zip(header, row, strict=True):
            try:
                values[key] = float(cell)
            except ValueError:
                raise DamagedFile(
                    path, f"line {number}, column {key!r}: {cell!r} is not a number", fix
                ) from None
        table.append(values)
    return table
