"""Parse `-e` arguments the way ansible-playbook does: key=value pairs, inline JSON/YAML, @file."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .errors import InvalidExtravarsError


def parse_one(text: str) -> dict[str, Any]:
    text = text.strip()
    if not text:
        raise InvalidExtravarsError("empty -e value")
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidExtravarsError(f"cannot read extra vars file {path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise InvalidExtravarsError(f"{path} is not valid YAML or JSON: {exc}") from exc
        return _mapping(loaded, str(path))
    if text.startswith(("{", "[")):
        try:
            return _mapping(yaml.safe_load(text), "inline extra vars")
        except yaml.YAMLError as exc:
            raise InvalidExtravarsError(f"inline extra vars are not valid JSON/YAML: {exc}") from exc
    pairs: dict[str, Any] = {}
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise InvalidExtravarsError(f"cannot parse extra vars {text!r}: {exc}") from exc
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep or not key.isidentifier():
            raise InvalidExtravarsError(f"extra var {token!r} is not key=value")
        pairs[key] = value
    return pairs


def _mapping(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InvalidExtravarsError(f"{where} must be a mapping of variable names to values")
    return value


def parse(values: Iterable[str]) -> dict[str, Any]:
    """Merge several -e values, later ones winning, as ansible-playbook does."""
    merged: dict[str, Any] = {}
    for value in values:
        merged.update(parse_one(value))
    return merged
