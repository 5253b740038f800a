"""Vars files hold data: a Jinja expression in one is a lookup, or at most one filter chain.

Anything longer is a program, and belongs in a filter (plugins/filter/) with a table of unit cases,
where it can be read and tested on its own.
"""

from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
import yaml
from harness import ROOT
from jinja2 import nodes

VARS_FILES = sorted(ROOT.glob("roles/*/vars/*.yml"))
ENVIRONMENT = jinja2.Environment()


def filter_chains(node: nodes.Node) -> int:
    """Filter chains in a template: `a | f | g` is one; `a | f + b | g` and `f(x | g)` are two."""
    chains = 0
    for field, value in node.iter_fields():
        for child in value if isinstance(value, list) else [value]:
            if not isinstance(child, nodes.Node):
                continue
            # The node a filter applies to may be the rest of its own chain.
            continues_chain = isinstance(node, nodes.Filter) and field == "node" and isinstance(child, nodes.Filter)
            chains += (isinstance(child, nodes.Filter) and not continues_chain) + filter_chains(child)
    return chains


def templates(value: object, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        yield where, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from templates(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from templates(item, f"{where}.{key}")


@pytest.mark.parametrize("path", VARS_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_expression_is_at_most_one_filter_chain(path: Path):
    programs = {}
    for name, value in (yaml.safe_load(path.read_text()) or {}).items():
        for where, template in templates(value, name):
            chains = filter_chains(ENVIRONMENT.parse(template))
            if chains > 1:
                programs[where] = chains
    assert programs == {}, "expressions of several filter chains (move them into a filter):"


@pytest.mark.parametrize(
    ("template", "chains"),
    [
        ("{{ a }}", 0),
        ("{{ a['b'] }}", 0),
        ("{{ a | f | g(1) | list }}", 1),
        ("{{ (a + b) | unique }}", 1),
        ("{{ a | f + b | g }}", 2),
        ("{{ a | f(b | g) }}", 2),
        ("{{ x if a | length > 1 else b | first }}", 2),
        ("{{ lookup('file', p) | info if c else {} }}", 1),
        ("{% if a is file %}{{ lookup('file', p) }}{% endif %}", 0),
    ],
)
def test_filter_chains_are_counted_as_written(template, chains):
    assert filter_chains(ENVIRONMENT.parse(template)) == chains
