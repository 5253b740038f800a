# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_hba_risks: the pg_hba.conf rules of an inventory that let anyone in or send passwords in the clear."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pg_hba_risks
short_description: The pg_hba.conf rules that let anyone in or send passwords in the clear, in words
version_added: 0.1.0
description:
  - Takes rules as M(community.postgresql.postgresql_pg_hba) does (C(contype), C(databases), C(users),
    C(address), C(method)) and returns one sentence per risk, naming the rule by its position and comment.
  - "Risks: method C(trust) (no password at all), C(password) (sent in the clear), a network rule
    without TLS (C(host) or C(hostnossl)), and an address open to the world (C(0.0.0.0/0), C(::/0), C(all))."
  - The postgresql role refuses such rules unless C(postgresql_hba_allow_insecure) is set.
options:
  _input:
    description: The rules.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse risky rules
  ansible.builtin.assert:
    that: postgresql_hba_entries | groundwork.infra.pg_hba_risks | length == 0
"""

RETURN = r"""
_value:
  description: One sentence per risk; empty when there is none.
  type: list
  elements: str
"""

import ipaddress

WORLD = {"all", "0.0.0.0/0", "::/0", "0.0.0.0", "::"}


def _name(index: int, rule: dict) -> str:
    comment = rule.get("comment")
    return f"rule {index + 1}" + (f" ({comment})" if comment else "")


def _world_open(address: str) -> bool:
    if address in WORLD:
        return True
    try:
        return ipaddress.ip_network(address, strict=False).prefixlen == 0
    except ValueError:
        return False  # a host name, samehost or samenet: not the whole world


def pg_hba_risks(rules: list[dict]) -> list[str]:
    risks = []
    for index, rule in enumerate(rules):
        name = _name(index, rule)
        method, contype = str(rule.get("method", "")), str(rule.get("contype", ""))
        if method == "trust":
            risks.append(f"{name} lets {rule.get('users', 'all')} in without a password (method trust)")
        elif method == "password":
            risks.append(f"{name} accepts passwords in the clear (method password)")
        if contype in ("host", "hostnossl"):
            risks.append(f"{name} accepts connections without TLS (contype {contype}; hostssl requires it)")
        if contype != "local" and _world_open(str(rule.get("address", ""))):
            risks.append(f"{name} is open to every address ({rule.get('address')})")
    return risks


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"pg_hba_risks": pg_hba_risks}
