# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pgbouncer_hba: pg_hba.conf rules as PgBouncer 1.18 reads them, and the rules it cannot read."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pgbouncer_hba
short_description: pg_hba.conf rules written for PgBouncer's auth_hba_file, or the reasons it cannot take them
version_added: 0.1.0
description:
  - Takes rules as M(community.postgresql.postgresql_pg_hba) does (C(contype), C(databases), C(users),
    C(address), C(method), C(options), C(comment)), with their defaults already applied.
  - PgBouncer 1.18 skips, with a line in its log, a rule it cannot read, and goes on with the next one; a skipped
    C(reject) would let in whom it was written to keep out. So the rules are checked first
    (C(pgbouncer_hba_problems)) and written only when every one can be read as written (C(pgbouncer_hba)).
  - "PgBouncer reads: the types C(host), C(hostssl), C(hostnossl) (and C(local)); database and user names,
    comma-separated, or C(all); an address with a prefix length; the methods C(scram-sha-256), C(md5),
    C(password), C(cert), C(trust), C(reject) (and C(peer) for C(local)); no options."
  - C(pgbouncer_hba) writes C(all) as C(0.0.0.0/0) and C(::/0), and a bare address with its full prefix length.
options:
  _input:
    description: The rules.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse rules PgBouncer would skip
  ansible.builtin.assert:
    that: haproxy_pgbouncer_hba_entries | groundwork.infra.pgbouncer_hba_problems | length == 0

- name: Write PgBouncer's client rules
  ansible.builtin.copy:
    content: "{{ rules | groundwork.infra.pgbouncer_hba | join('\n') }}\n"
    dest: /etc/pgbouncer/hba.conf
"""

RETURN = r"""
_value:
  description:
    - C(pgbouncer_hba_problems) - one sentence per rule PgBouncer cannot read as written; empty when there is none.
    - C(pgbouncer_hba) - the rules' lines, in their order.
  type: list
  elements: str
"""

import ipaddress

from ansible.errors import AnsibleFilterError

METHODS = {"scram-sha-256", "md5", "password", "cert", "trust", "reject"}
# Keywords PgBouncer does not know in the database or user column (it skips such a rule).
UNREAD_NAMES = {"samerole", "samegroup", "replication"}


def _name(index: int, rule: dict) -> str:
    comment = rule.get("comment")
    return f"rule {index + 1}" + (f" ({comment})" if comment else "")


def _network(address: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(address, strict=False)
    except ValueError:
        return None  # a host name, samehost or samenet


def _rule_problems(name: str, rule: dict) -> list[str]:
    problems = []
    for column in ("databases", "users"):
        for token in str(rule.get(column, "all")).split(","):
            if token.startswith(("+", "@")) or token in UNREAD_NAMES:
                problems.append(f"{name}: PgBouncer cannot read {token!r} in {column}")
    method = str(rule.get("method", ""))
    if method not in METHODS:
        problems.append(f"{name}: PgBouncer has no method {method!r}")
    address = str(rule.get("address", ""))
    if address != "all" and _network(address) is None:
        problems.append(f"{name}: PgBouncer takes addresses and networks only, not {address!r}")
    if rule.get("options"):
        problems.append(f"{name}: PgBouncer takes no options ({rule['options']})")
    return problems


def pgbouncer_hba_problems(rules: list[dict]) -> list[str]:
    problems = []
    for index, rule in enumerate(rules):
        if rule.get("contype") == "local":
            continue  # PgBouncer's clients come through HAProxy, over the network: its rules are not written
        problems += _rule_problems(_name(index, rule), rule)
    return problems


def pgbouncer_hba(rules: list[dict]) -> list[str]:
    problems = pgbouncer_hba_problems(rules)
    if problems:
        raise AnsibleFilterError("pgbouncer_hba: " + "; ".join(problems))
    lines = []
    for rule in rules:
        if rule.get("contype") == "local":
            continue
        address = str(rule["address"])
        networks = ["0.0.0.0/0", "::/0"] if address == "all" else [str(_network(address))]
        comment = f"  # {rule['comment']}" if rule.get("comment") else ""
        for network in networks:
            columns = (rule["contype"], rule.get("databases", "all"), rule["users"], network, rule["method"])
            lines.append(" ".join(str(column) for column in columns) + comment)
    return lines


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"pgbouncer_hba": pgbouncer_hba, "pgbouncer_hba_problems": pgbouncer_hba_problems}
