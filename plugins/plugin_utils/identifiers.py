# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a name may be, wherever it comes from: inventory tags, host vars, role inputs.

A cluster's name is also its pgBackRest stanza and goes into archive_command (which PostgreSQL
runs through /bin/sh), configuration files, paths and unit names; the names of the roles and
databases the postgresql role creates go into pg_hba.conf. They are checked once, here, against
rules strict enough that no quoting is ever needed; the places that use them quote anyway.
"""

from __future__ import annotations

import re

CLUSTER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
CLUSTER_RULE = "lower-case letters, digits, '_' and '-', starting with a letter, at most 63 characters"
OBJECT_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
OBJECT_RULE = "lower-case letters, digits and '_', not starting with a digit, at most 63 characters"


def is_cluster_name(value: object) -> bool:
    return isinstance(value, str) and CLUSTER_NAME.fullmatch(value) is not None


def is_object_name(value: object) -> bool:
    return isinstance(value, str) and OBJECT_NAME.fullmatch(value) is not None


def cluster_name_problem(value: object, source: str) -> str | None:
    """A sentence naming the bad value and where it came from, or None when the name is fine."""
    if is_cluster_name(value):
        return None
    return f"{source} is {value!r}: a cluster name (also its pgBackRest stanza) must be {CLUSTER_RULE}"


def object_name_problem(value: object, source: str) -> str | None:
    if is_object_name(value):
        return None
    return f"{source} is {value!r}: a PostgreSQL role or database name here must be {OBJECT_RULE}"


def collisions(names: dict[str, str]) -> dict[str, list[str]]:
    """Derived name to the several originals that map to it ({original: derived} in)."""
    by_derived: dict[str, list[str]] = {}
    for original, derived in names.items():
        by_derived.setdefault(derived, []).append(original)
    return {derived: sorted(originals) for derived, originals in by_derived.items() if len(originals) > 1}
