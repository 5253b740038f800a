# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""changed_on: whether this run changed any of the named registered results on any of the hosts."""

from __future__ import annotations

DOCUMENTATION = r"""
name: changed_on
short_description: Whether this run changed any of the named registered results on any of the given hosts
version_added: 0.1.0
description:
  - A check that costs seconds runs only when something it depends on changed in this run, on this host or
    another (a cluster's members, its repository host). A result a host never registered (it did not run
    that task) counts as unchanged.
options:
  _input:
    description: The hosts to look at.
    type: list
    elements: str
    required: true
  hostvars:
    description: The inventory's C(hostvars).
    type: dict
    required: true
  names:
    description: The registered variables that count.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Check archiving end to end when this run changed what it depends on
  ansible.builtin.command: pgbackrest --stanza=main check
  changed_when: false  # a check: it reads the repository and archives one WAL file, no configuration
  when: (['pg1'] + groups['postgresql']) | groundwork.infra.changed_on(hostvars, ['conf_written', 'ssh_key'])
"""

RETURN = r"""
_value:
  description: True when one of O(names) is a changed result on one of the hosts.
  type: bool
"""

from collections.abc import Mapping


def changed_on(hosts: list[str], hostvars: Mapping, names: list[str]) -> bool:
    for host in hosts:
        variables = hostvars.get(host) or {}
        for name in names:
            result = variables.get(name)
            if isinstance(result, Mapping) and result.get("changed"):
                return True
    return False


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"changed_on": changed_on}
