# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_cluster_name: the names a PostgreSQL cluster (and its pgBackRest stanza) may have."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pg_cluster_name
short_description: Whether a value may name a PostgreSQL cluster (and its pgBackRest stanza)
version_added: 0.1.0
description:
  - Lower-case letters, digits, C(_) and C(-), starting with a letter, at most 63 characters.
  - The same rule as the inventory plugins and the C(pg_topology) filter apply, because the name reaches
    C(archive_command) (run through C(/bin/sh)), configuration files, paths and unit names.
options:
  _input:
    description: The value.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse a cluster name that would reach a shell
  ansible.builtin.assert:
    that: groundwork_pg_cluster is groundwork.infra.pg_cluster_name
"""

RETURN = r"""
_value:
  description: Whether the value is such a name.
  type: bool
"""

from ansible_collections.groundwork.infra.plugins.plugin_utils.identifiers import is_cluster_name


class TestModule:
    def tests(self) -> dict[str, object]:
        return {"pg_cluster_name": is_cluster_name}
