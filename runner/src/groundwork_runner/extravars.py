"""Parse `-e` arguments the way ansible-playbook does: key=value pairs, inline JSON/YAML, @file.

Error messages name the -e value by its position and never quote it: a value may be a secret.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .errors import InvalidExtravarsError


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What YAML says is wrong and where, without the snippet of the text it prints."""
    problem = getattr(exc, "problem", None) or "not valid YAML or JSON"
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else problem


def parse_one(text: str, position: int = 1) -> dict[str, Any]:
    where = f"-e value {position}"
    text = text.strip()
    if not text:
        raise InvalidExtravarsError(f"{where} is empty")
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidExtravarsError(f"cannot read extra vars file {path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise InvalidExtravarsError(f"{path} is not valid YAML or JSON: {_yaml_problem(exc)}") from exc
        return _mapping(loaded, str(path))
    if text.startswith(("{", "[")):
        try:
            return _mapping(yaml.safe_load(text), where)
        except yaml.YAMLError as exc:
            raise InvalidExtravarsError(f"{where} is not valid JSON/YAML: {_yaml_problem(exc)}") from exc
    pairs: dict[str, Any] = {}
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise InvalidExtravarsError(f"cannot parse {where}: {exc}") from exc
    for number, token in enumerate(tokens, start=1):
        key, sep, value = token.partition("=")
        if not sep or not key.isidentifier():
            raise InvalidExtravarsError(
                f"{where}, item {number} is not key=value (a variable name, '=', then the value)"
            )
        pairs[key] = value
    return pairs


def _mapping(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InvalidExtravarsError(f"{where} must be a mapping of variable names to values")
    return value


def parse(values: Iterable[str]) -> dict[str, Any]:
    """Merge several -e values, later ones winning, as ansible-playbook does."""
    merged: dict[str, Any] = {}
    for position, value in enumerate(values, start=1):
        merged.update(parse_one(value, position))
    return merged
