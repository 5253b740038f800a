# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_topology: the PostgreSQL clusters an inventory describes, and what is wrong with them."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pg_topology
short_description: The PostgreSQL clusters an inventory describes, and what is wrong with them
version_added: 0.1.0
description:
  - Reads the inventory's contract (see the collection README) and returns one entry per cluster.
  - A host belongs to the cluster named by its C(groundwork_pg_cluster) (default V(main)); it is
    the primary when it is in group C(postgresql_primary) and a replica when it is in
    C(postgresql_replica). A replica streams from C(postgresql_replication_upstream) when set
    (cascading), otherwise from the primary.
  - A cluster's C(groundwork_pg_ha) (the same on every member) says who fails it over - V(inventory),
    the default (the operator, through the lifecycle playbooks), or V(patroni). A Patroni cluster's
    etcd runs on its members, or on the hosts of the group its C(groundwork_pg_dcs_group) names;
    at least three, an odd number, so that a majority survives the loss of one.
  - The C(problems) of the result list every inconsistency in words an operator can act on;
    the playbooks fail on them before any host changes. A cluster name that is not lower-case
    letters, digits, C(_) and C(-) starting with a letter (the name reaches a shell through
    C(archive_command)) is one; so are hosts whose replication slot names would be the same.
options:
  _input:
    description: The inventory's C(groups).
    type: dict
    required: true
  hostvars:
    description: The inventory's C(hostvars).
    type: dict
    required: true
  primaries:
    description: Cluster name to the host that is to be taken as its primary instead of the inventory's.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Show the clusters
  ansible.builtin.debug:
    msg: "{{ groups | groundwork.infra.pg_topology(hostvars) }}"
"""

RETURN = r"""
_value:
  description: Keyed by cluster name.
  type: dict
  contains:
    clusters:
      description: Per cluster, C(primary), C(replicas), C(members), C(upstream) (replica to the
        host it streams from), C(tier) (1 for a replica of the primary, 2 for one cascading from
        it), C(slot) (member to the name of its replication slot) and C(address) (member to
        C(postgresql_address), else its default IPv4 address from facts), C(ha) (V(inventory) or
        V(patroni)) and C(dcs) (the hosts of a Patroni cluster's etcd; empty otherwise).
    dcs_peers:
      description: Every host that runs etcd for a Patroni cluster to the hosts of its etcd cluster (itself included).
    cluster_of:
      description: Every member of a cluster to the cluster's name.
    problems:
      description: One sentence per inconsistency; empty when the inventory makes sense.
"""

import re

from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.infra.plugins.plugin_utils.identifiers import cluster_name_problem, collisions

PRIMARY_GROUP = "postgresql_primary"
REPLICA_GROUP = "postgresql_replica"
MAX_TIER = 2
HA_MODES = ("inventory", "patroni")
# etcd keeps working while a majority of its members does: three tolerate the loss of one.
MIN_DCS_HOSTS = 3


def slot_name(host: str) -> str:
    """A replication slot name for a host: lower case letters, digits and underscores only."""
    return "gw_" + re.sub(r"[^a-z0-9_]", "_", host.lower())[:60]


def _host_var(hostvars: dict, host: str, name: str, default: str) -> str:
    value = hostvars[host].get(name, default) if host in hostvars else default
    return str(value) if value not in (None, "") else default


def fact_address(hostvars: dict, host: str) -> str | None:
    """A host's default IPv4 address from its facts; None when they are not known."""
    facts = hostvars[host].get("ansible_facts", {}) if host in hostvars else {}
    return (facts.get("default_ipv4") or {}).get("address")


def _address(hostvars: dict, host: str) -> str | None:
    """Where the other members reach a host: postgresql_address, else its default IPv4 address."""
    return _host_var(hostvars, host, "postgresql_address", "") or fact_address(hostvars, host)


def _cluster_of(groups: dict, hostvars: dict) -> dict[str, str]:
    hosts = list(dict.fromkeys([*groups.get(PRIMARY_GROUP, []), *groups.get(REPLICA_GROUP, [])]))
    return {host: _host_var(hostvars, host, "groundwork_pg_cluster", "main") for host in hosts}


def _name_problems(name: str, members: list[str]) -> list[str]:
    problems = []
    problem = cluster_name_problem(name, f"groundwork_pg_cluster of {', '.join(members)}")
    if problem:
        problems.append(problem)
    for slot, hosts in sorted(collisions({host: slot_name(host) for host in members}).items()):
        problems.append(f"cluster {name}: {', '.join(hosts)} would all use replication slot {slot}; rename all but one")
    return problems


def _tiers(name: str, upstream: dict[str, str], primary: str | None, problems: list[str]) -> dict[str, int]:
    tier: dict[str, int] = {}
    for replica, first_hop in upstream.items():
        seen, node = [replica], first_hop
        while node != primary and node in upstream and node not in seen:
            seen.append(node)
            node = upstream[node]
        if node in seen:
            problems.append(f"cluster {name}: replication upstreams form a loop: {' -> '.join([*seen, node])}")
        elif node == primary and primary is not None:
            tier[replica] = len(seen)
            if len(seen) > MAX_TIER:
                problems.append(
                    f"cluster {name}: {replica} is {len(seen)} hops from the primary; "
                    f"cascading deeper than {MAX_TIER} is not supported"
                )
    return tier


def _ha_mode(name: str, members: list[str], hostvars: dict, problems: list[str]) -> str:
    modes = {host: _host_var(hostvars, host, "groundwork_pg_ha", "inventory") for host in members}
    chosen = sorted(set(modes.values()))
    if len(chosen) > 1:
        named = "; ".join(f"{mode}: {', '.join(h for h in members if modes[h] == mode)}" for mode in chosen)
        problems.append(f"cluster {name}: its members disagree on groundwork_pg_ha ({named}); set it once for it")
    unknown = [mode for mode in chosen if mode not in HA_MODES]
    if unknown:
        allowed = ", ".join(HA_MODES)
        problems.append(f"cluster {name}: groundwork_pg_ha must be one of {allowed}, not {', '.join(unknown)}")
    return chosen[0] if len(chosen) == 1 and not unknown else "inventory"


def _dcs_hosts(name: str, members: list[str], groups: dict, hostvars: dict, problems: list[str]) -> list[str]:
    named = {_host_var(hostvars, host, "groundwork_pg_dcs_group", "") for host in members}
    if len(named) > 1:
        problems.append(f"cluster {name}: its members disagree on groundwork_pg_dcs_group; set it once for the cluster")
        return []
    group = named.pop()
    if group and group not in groups:
        problems.append(f"cluster {name}: groundwork_pg_dcs_group names {group}, which is not a group of the inventory")
        return []
    hosts = sorted(groups[group]) if group else members
    where = f"the hosts of group {group}" if group else "its members"
    if len(hosts) < MIN_DCS_HOSTS or len(hosts) % 2 == 0:
        problems.append(
            f"cluster {name}: Patroni's etcd runs on {where} ({', '.join(hosts) or 'none'}); it needs an odd number, "
            f"at least {MIN_DCS_HOSTS}, so that a majority outlives one host (set groundwork_pg_dcs_group)"
        )
    return hosts


def _dcs_peers(clusters: dict, problems: list[str]) -> dict[str, list[str]]:
    peers: dict[str, list[str]] = {}
    for name, cluster in clusters.items():
        for host in cluster["dcs"]:
            if peers.setdefault(host, cluster["dcs"]) != cluster["dcs"]:
                problems.append(
                    f"{host} would run etcd for cluster {name} with {', '.join(cluster['dcs'])} and for another "
                    f"cluster with {', '.join(peers[host])}; one host serves one etcd cluster"
                )
    return peers


def pg_topology(groups: dict, hostvars: dict, primaries: dict | None = None) -> dict:
    if not isinstance(groups, dict):
        raise AnsibleFilterError("pg_topology: the input must be the inventory's groups")
    primaries = primaries or {}
    both = sorted(set(groups.get(PRIMARY_GROUP, [])) & set(groups.get(REPLICA_GROUP, [])))
    problems = [f"{host} is in both {PRIMARY_GROUP} and {REPLICA_GROUP}" for host in both]
    cluster_of = _cluster_of(groups, hostvars)
    clusters: dict[str, dict] = {}
    for name in sorted(set(cluster_of.values())):
        members = sorted(h for h, c in cluster_of.items() if c == name)
        problems.extend(_name_problems(name, members))
        listed = [h for h in members if h in groups.get(PRIMARY_GROUP, [])]
        if name in primaries:
            if primaries[name] not in members:
                problems.append(f"cluster {name}: {primaries[name]} is not one of its members ({', '.join(members)})")
            listed = [primaries[name]]
        replicas = [h for h in members if h not in listed]
        if len(listed) > 1:
            problems.append(f"cluster {name} has {len(listed)} primaries ({', '.join(listed)}); exactly one is allowed")
        elif not listed:
            problems.append(f"cluster {name} has no primary; its replicas {', '.join(replicas)} need one")
        primary = listed[0] if len(listed) == 1 else None
        upstream = {}
        for replica in replicas:
            chosen = _host_var(hostvars, replica, "postgresql_replication_upstream", "")
            if name in primaries or not chosen:
                # After a switchover or failover every replica streams from the new primary.
                chosen = primary or ""
            elif chosen not in members or chosen == replica:
                problems.append(
                    f"cluster {name}: {replica} has postgresql_replication_upstream={chosen}, "
                    "which is not another member of its cluster"
                )
                chosen = primary or ""
            upstream[replica] = chosen
        clusters[name] = {
            "primary": primary,
            "replicas": replicas,
            "members": members,
            "upstream": upstream,
            "tier": _tiers(name, upstream, primary, problems),
            "slot": {host: slot_name(host) for host in members},
            "address": {host: _address(hostvars, host) for host in members},
        }
        ha = _ha_mode(name, members, hostvars, problems)
        clusters[name]["ha"] = ha
        clusters[name]["dcs"] = _dcs_hosts(name, members, groups, hostvars, problems) if ha == "patroni" else []
    dcs_peers = _dcs_peers(clusters, problems)
    return {"clusters": clusters, "cluster_of": cluster_of, "dcs_peers": dcs_peers, "problems": problems}


def pg_member_hba(cluster: dict, host: str, user: str, tls: bool = True) -> list[dict[str, str]]:
    """pg_hba rules letting the other members of a cluster in as the replication user.

    Every member may become the primary, so every member lets every other one stream
    (database "replication") and run pg_rewind (database "postgres").
    """
    rules = []
    for member in cluster["members"]:
        if member == host:
            continue
        address = cluster["address"].get(member)
        if not address:
            raise AnsibleFilterError(
                f"pg_member_hba: no address for {member}; gather its facts or set postgresql_address"
            )
        for database in ("replication", "postgres"):
            rules.append(
                {
                    "contype": "hostssl" if tls else "host",
                    "databases": database,
                    "users": user,
                    "address": address if "/" in address else f"{address}/{128 if ':' in address else 32}",
                    "method": "scram-sha-256",
                    "comment": f"member {member}",
                }
            )
    return rules


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"pg_topology": pg_topology, "pg_member_hba": pg_member_hba}
