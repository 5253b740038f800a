# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Constructed-feature expressions people write, evaluated without Ansible's templar.

`compose`, `groups` and `keyed_groups` are Jinja expressions that ansible-core templates once per
host and entry: at 10,000 hosts, most of an inventory's CPU time. Most of them are plain lookups
(`ec2_tags.env`, `region`), a comparison (`instance_type == 'm5.large'`) or a fallback
(`public_ip_address | default(private_ip_address)`). Those are compiled once, from Jinja's own
parser, into Python closures.

A closure answers only when its answer is certain to be the templar's: a name the host lacks, an
attribute a dict's methods would shadow, a type a comparison refuses, raise `Miss`, and the caller
asks the templar, which then gives its own result or its own error (strict mode). Expressions of
any other form compile to None: the templar answers them every time.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from ansible.module_utils.datatag import native_type_name
from jinja2 import Environment, TemplateSyntaxError, nodes

Evaluator = Callable[[Mapping[str, Any]], Any]

# Names whose value depends on the inventory being built or on the play, not on the host's own
# variables (group_names grows as keyed groups are added): always the templar's.
TEMPLAR_ONLY_NAMES = frozenset(
    {
        "group_names", "groups", "hostvars", "vars", "inventory_hostname", "inventory_hostname_short",
        "inventory_dir", "inventory_file", "omit", "playbook_dir", "play_hosts", "ansible_play_hosts",
        "ansible_play_batch", "role_names", "ansible_version", "lookup", "query", "q", "now", "undef",
    }
)  # fmt: skip

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "in": lambda item, container: item in container,
    "notin": lambda item, container: item not in container,
}

_PARSER = Environment()

PLAIN = {kind.__name__: kind for kind in (str, int, float, bool, list, dict, type(None))}
_native_of: dict[type, type | None] = {}


def native(value: Any) -> type | None:
    """The plain type `value` is, or stands for: ansible-core hands a plugin's variables back as tagged
    copies (origin, trust), subclasses of str, dict, list ... that behave as their base type. None for
    anything else (a class of the plugin's or a library's), which is the templar's to judge."""
    kind = type(value)
    try:
        return _native_of[kind]
    except KeyError:
        name = native_type_name(kind)
        base = PLAIN.get(name)
        # A tagged type names its base; a subclass that is not one (named as it is) is not plain.
        tagged = base is not None and issubclass(kind, base) and name != kind.__name__
        plain = base if kind is base or tagged else None
        _native_of[kind] = plain
        return plain


class Miss(Exception):
    """This host's answer must come from the templar (a type a comparison refuses, a method, ...)."""


class Undefined(Miss):
    """A name, key or index the host's variables lack: what default() replaces, else the templar's."""


def compile_expression(text: Any) -> Evaluator | None:
    """A closure giving what the templar would for `text`, or None when `text` is not of a known form."""
    if not isinstance(text, str):
        return None
    try:
        template = _PARSER.parse("{{ " + text + " }}")
    except TemplateSyntaxError:
        return None
    body = template.body
    # "a }}{{ b" parses as two outputs; "a }} text" as an output and data: neither is one expression.
    if len(body) != 1 or not isinstance(body[0], nodes.Output) or len(body[0].nodes) != 1:
        return None
    try:
        return _compile(body[0].nodes[0])
    except _Unsupported:
        return None


def compile_conditional(text: Any) -> Evaluator | None:
    """As compile_expression, for a `groups` conditional: the answer must be a boolean (ansible-core's rule)."""
    evaluate = compile_expression(text)
    if evaluate is None:
        return None

    def conditional(variables: Mapping[str, Any]) -> bool:
        result = evaluate(variables)
        if not isinstance(result, bool):
            raise Miss("not a boolean")  # the templar says why, or how it reads it
        return result

    return conditional


class _Unsupported(Exception):
    pass


def _compile(node: nodes.Node) -> Evaluator:
    build = _BUILDERS.get(type(node))
    if build is None:
        raise _Unsupported(type(node).__name__)
    return build(node)


def _const(node: nodes.Const) -> Evaluator:
    value = node.value
    return lambda variables: value


def _list(node: nodes.List) -> Evaluator:
    items = [_compile(item) for item in node.items]
    return lambda variables: [item(variables) for item in items]


def _getitem(node: nodes.Getitem) -> Evaluator:
    if not isinstance(node.arg, nodes.Const):
        raise _Unsupported("a computed index")
    return _item(_compile(node.node), node.arg.value)


def _compare(node: nodes.Compare) -> Evaluator:
    if len(node.ops) != 1 or node.ops[0].op not in COMPARISONS:
        raise _Unsupported("comparison")
    return _comparison(_compile(node.expr), COMPARISONS[node.ops[0].op], _compile(node.ops[0].expr))


def _not(node: nodes.Not) -> Evaluator:
    operand = _compile(node.node)
    return lambda variables: not operand(variables)


def _and(node: nodes.And) -> Evaluator:
    left, right = _compile(node.left), _compile(node.right)
    return lambda variables: left(variables) and right(variables)


def _or(node: nodes.Or) -> Evaluator:
    left, right = _compile(node.left), _compile(node.right)
    return lambda variables: left(variables) or right(variables)


def _filter(node: nodes.Filter) -> Evaluator:
    if node.name not in ("default", "d") or node.node is None:
        raise _Unsupported(f"filter {node.name}")
    return _default(node)


def _name(name: str) -> Evaluator:
    if name in TEMPLAR_ONLY_NAMES:
        raise _Unsupported(name)

    def lookup(variables: Mapping[str, Any]) -> Any:
        try:
            return variables[name]
        except KeyError:
            raise Undefined(name) from None

    return lookup


def _attribute(parent: Evaluator, attr: str) -> Evaluator:
    # Jinja tries getattr before the key: `tags.items` is the dict's method, not a tag named items.
    if hasattr(dict, attr):
        raise _Unsupported(attr)

    def get(variables: Mapping[str, Any]) -> Any:
        value = parent(variables)
        if native(value) is dict:
            # A tagged dict's own attributes (all private) are the templar's to refuse.
            if value.__class__ is not dict and hasattr(value.__class__, attr):
                raise Miss(attr)
            if attr in value:
                return value[attr]
            raise Undefined(attr)
        raise Miss(attr)  # a string's or list's attribute may be a method

    return get


def _item(parent: Evaluator, key: Any) -> Evaluator:
    def get(variables: Mapping[str, Any]) -> Any:
        value = parent(variables)
        kind = native(value)
        if kind is dict:
            if key in value:
                return value[key]
            raise Undefined(repr(key))
        if kind is list and isinstance(key, int) and not isinstance(key, bool):
            if -len(value) <= key < len(value):
                return value[key]
            raise Undefined(repr(key))
        raise Miss(repr(key))

    return get


def _comparison(left: Evaluator, compare: Callable[[Any, Any], bool], right: Evaluator) -> Evaluator:
    def evaluate(variables: Mapping[str, Any]) -> bool:
        a, b = left(variables), right(variables)
        # Plain values compare as in Python; anything else, or a test Python refuses, is the templar's.
        if native(a) is None or native(b) is None:
            raise Miss("comparison")
        try:
            return compare(a, b)
        except TypeError:
            raise Miss("comparison") from None

    return evaluate


def _default(node: nodes.Filter) -> Evaluator:
    if node.kwargs or node.dyn_args or node.dyn_kwargs or len(node.args) > 2:
        raise _Unsupported("default arguments")
    value = _compile(node.node)
    fallback = _compile(node.args[0]) if node.args else (lambda variables: "")
    boolean = False
    if len(node.args) == 2:
        if not isinstance(node.args[1], nodes.Const) or not isinstance(node.args[1].value, bool):
            raise _Unsupported("default's second argument")
        boolean = node.args[1].value

    def evaluate(variables: Mapping[str, Any]) -> Any:
        try:
            found = value(variables)
        except Undefined:
            # Only a missing name, key or index is undefined to default(); a Miss stays the templar's.
            return fallback(variables)
        return fallback(variables) if boolean and not found else found

    return evaluate


_BUILDERS: dict[type, Callable[[Any], Evaluator]] = {
    nodes.Const: _const,
    nodes.List: _list,
    nodes.Name: lambda node: _name(node.name),
    nodes.Getattr: lambda node: _attribute(_compile(node.node), node.attr),
    nodes.Getitem: _getitem,
    nodes.Compare: _compare,
    nodes.Not: _not,
    nodes.And: _and,
    nodes.Or: _or,
    nodes.Filter: _filter,
}
