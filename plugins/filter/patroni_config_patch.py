# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""patroni_config_patch: the smallest PATCH /config body that brings Patroni's settings in etcd in step."""

from __future__ import annotations

DOCUMENTATION = r"""
name: patroni_config_patch
short_description: The smallest merge patch that brings Patroni's cluster-wide settings in step with the wanted ones
version_added: 0.1.0
description:
  - Patroni writes its cluster-wide settings (C(bootstrap.dcs)) to etcd once, when the cluster is first
    initialised; after that they live in etcd alone, and C(PATCH /config) merges changes into them.
  - Returns the keys of O(wanted) whose values differ from O(_input), nested as they are, and nothing else;
    an empty dictionary means nothing to change. Keys only O(_input) holds (set by hand with
    C(patronictl edit-config)) are left alone.
  - Scalars compare by their text, so the number 30 and the string 30, as YAML and JSON round trips give
    them, are the same.
options:
  _input:
    description: The settings Patroni holds now (C(GET /config)).
    type: dict
    required: true
  wanted:
    description: The settings wanted, as nested as Patroni's.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Patch what differs
  ansible.builtin.uri:
    url: https://pg1:8008/config
    method: PATCH
    body_format: json
    body: "{{ current.json | groundwork.infra.patroni_config_patch({'ttl': 30, 'postgresql': {'use_slots': true}}) }}"
"""

RETURN = r"""
_value:
  description: The merge patch; empty when the settings are already in step.
  type: dict
"""

from collections.abc import Mapping


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def patroni_config_patch(current: Mapping, wanted: Mapping) -> dict:
    patch: dict = {}
    for key, value in wanted.items():
        held = current.get(key) if isinstance(current, Mapping) else None
        if isinstance(value, Mapping):
            nested = patroni_config_patch(held if isinstance(held, Mapping) else {}, value)
            if nested:
                patch[key] = nested
        elif held is None or _text(held) != _text(value):
            patch[key] = value
    return patch


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"patroni_config_patch": patroni_config_patch}
