# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_hba.conf rules: those that let anyone in or send passwords in the clear (pg_hba_risks), and the same
rules as PgBouncer 1.18 reads them (pgbouncer_hba), or why it cannot (pgbouncer_hba_problems)."""

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
  - C(pgbouncer_hba_problems), in the same file, names each rule PgBouncer 1.18 cannot read as written (it skips
    such a rule, with a line in its log, and goes on with the next, so a skipped C(reject) would let in whom it was
    written to keep out). PgBouncer reads the types C(host), C(hostssl), C(hostnossl) (C(local) rules are not
    its clients' and are left out), database and user names or C(all), addresses and networks, the methods
    C(scram-sha-256), C(md5), C(password), C(cert), C(trust), C(reject), and no options.
  - C(pgbouncer_hba) writes the rules' lines for PgBouncer's C(auth_hba_file), C(all) as C(0.0.0.0/0) and C(::/0)
    and a bare address with its full prefix length; it fails on a rule C(pgbouncer_hba_problems) names.
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

- name: Refuse rules PgBouncer would skip
  ansible.builtin.assert:
    that: haproxy_pgbouncer_hba_entries | groundwork.infra.pgbouncer_hba_problems | length == 0
"""

RETURN = r"""
_value:
  description:
    - One sentence per risk (C(pg_hba_risks)) or per rule PgBouncer cannot read (C(pgbouncer_hba_problems));
      empty when there is none.
    - C(pgbouncer_hba) - the rules' lines, in their order.
  type: list
  elements: str
"""

import ipaddress

from ansible.errors import AnsibleFilterError

WORLD = {"all", "0.0.0.0/0", "::/0", "0.0.0.0", "::"}


def _name(index: int, rule: dict) -> str:
    comment = rule.get("comment")
    return f"rule {index + 1}" + (f" ({comment})" if comment else "")


def _network(address: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(address, strict=False)
    except ValueError:
        return None  # a host name, samehost or samenet


def _world_open(address: str) -> bool:
    network = _network(address)
    return address in WORLD or (network is not None and network.prefixlen == 0)


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


# PgBouncer 1.18's reading of the same rules (src/hba.c).
METHODS = {"scram-sha-256", "md5", "password", "cert", "trust", "reject"}
# Keywords PgBouncer does not know in the database or user column (it skips such a rule).
UNREAD_NAMES = {"samerole", "samegroup", "replication"}


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
        return {
            "pg_hba_risks": pg_hba_risks,
            "pgbouncer_hba": pgbouncer_hba,
            "pgbouncer_hba_problems": pgbouncer_hba_problems,
        }
