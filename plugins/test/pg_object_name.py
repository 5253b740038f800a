# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_object_name: the names of the roles and databases the postgresql role creates."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pg_object_name
short_description: Whether a value may name a PostgreSQL role or database the postgresql role creates
version_added: 0.1.0
description:
  - Lower-case letters, digits and C(_), not starting with a digit, at most 63 characters.
  - Such a name needs no quoting in SQL, in C(pg_hba.conf) or in a shell, and PostgreSQL does not fold it.
options:
  _input:
    description: The value.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse a user name pg_hba.conf would misread
  ansible.builtin.assert:
    that: item.name is groundwork.infra.pg_object_name
  loop: "{{ postgresql_users }}"
"""

RETURN = r"""
_value:
  description: Whether the value is such a name.
  type: bool
"""

from ansible_collections.groundwork.infra.plugins.plugin_utils.identifiers import is_object_name


class TestModule:
    def tests(self) -> dict[str, object]:
        return {"pg_object_name": is_object_name}
