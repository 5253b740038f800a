# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""firewall_peers: which hosts of the inventory a host's firewall lets in, and from which addresses."""

from __future__ import annotations

DOCUMENTATION = r"""
name: firewall_peers
short_description: Which hosts a host's firewall lets in, and from which addresses
version_added: 0.1.0
description:
  - The fleet as the hardening role's firewall sees it from one host, computed in one pass over the
    inventory (the role sets it once per run; read through chains of templates, every task that
    touched it computed it again).
  - Database and repository hosts let each other in for pgBackRest's SSH (a repository host also
    lets in the hosts of the restore groups); a database host lets its own cluster's members in
    for PostgreSQL, at the addresses they stream from (C(pg_topology)); every host lets the
    monitoring hosts in for the exporters; a log collector lets every server in for RELP.
  - A member of a Patroni cluster lets the cluster's members in for Patroni's REST API; a host that
    runs etcd lets its etcd peers in on the peer port, and them and the members of the clusters it
    serves on the client port. The monitoring hosts reach both ports too, for their C(/metrics).
options:
  _input:
    description: The inventory's C(groups).
    type: dict
    required: true
  hostvars:
    description: The inventory's C(hostvars).
    type: dict
    required: true
  host:
    description: The host whose firewall this is (C(inventory_hostname)).
    type: str
    required: true
  db_group:
    description: The group of the database hosts.
    type: str
    default: postgresql
  repository_group:
    description: The group of the backup repository hosts.
    type: str
    default: backup_repository
  restore_groups:
    description: Groups whose hosts a repository host lets fetch backups.
    type: list
    elements: str
    default: []
  monitoring_group:
    description: The group of the hosts that scrape the exporters.
    type: str
    default: monitoring
  log_collector_group:
    description: The group of the hosts that receive the servers' logs.
    type: str
    default: log_collector
  servers_group:
    description: The group of every server, which sends its logs to the collectors.
    type: str
    default: servers
"""

EXAMPLES = r"""
- name: Work out the firewall's view of the fleet once
  ansible.builtin.set_fact:
    firewall_view: "{{ groups | groundwork.infra.firewall_peers(hostvars, inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: The fleet as this host's firewall sees it.
  type: dict
  contains:
    db_hosts:
      description: The hosts of O(db_group).
    repository_hosts:
      description: The hosts of O(repository_group).
    restore_hosts:
      description: The hosts of O(restore_groups) that are not database hosts.
    monitoring_hosts:
      description: The hosts of O(monitoring_group).
    addresses:
      description: Every peer (a host this one lets in) to its default IPv4 address from facts,
        V('') when its facts are not known.
    unknown:
      description: The peers without a known address.
    is_db_host:
      description: Whether O(host) is a database host.
    is_repository_host:
      description: Whether O(host) is a repository host.
    is_monitoring_host:
      description: Whether O(host) is a monitoring host.
    is_log_collector:
      description: Whether O(host) is a host of O(log_collector_group).
    log_senders:
      description: On a log collector, the hosts of O(servers_group); elsewhere none.
    ssh_peers:
      description: The hosts whose pgBackRest connects to this one over SSH.
    cluster_addresses:
      description: On a database host, the addresses of its cluster's members, in member order.
    patroni_addresses:
      description: On a member of a Patroni cluster, its members' and the monitoring hosts' addresses (Patroni's
        REST API); else none.
    etcd_peer_addresses:
      description: On a host that runs etcd, its etcd peers' addresses (itself included); else none.
    etcd_client_addresses:
      description: On a host that runs etcd, its peers', the served clusters' members' and the monitoring hosts'
        addresses; else none.
"""

from collections.abc import Iterable

from ansible_collections.groundwork.infra.plugins.filter.pg_topology import fact_address, pg_topology


def _unique(hosts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(hosts))


def firewall_peers(
    groups: dict,
    hostvars: dict,
    host: str,
    *,
    db_group: str = "postgresql",
    repository_group: str = "backup_repository",
    restore_groups: list[str] | None = None,
    monitoring_group: str = "monitoring",
    log_collector_group: str = "log_collector",
    servers_group: str = "servers",
) -> dict:
    db_hosts = list(groups.get(db_group, []))
    repository_hosts = list(groups.get(repository_group, []))
    restore_groups = restore_groups or []
    restore = _unique(member for name, members in groups.items() if name in restore_groups for member in members)
    restore_hosts = [member for member in restore if member not in db_hosts]
    monitoring_hosts = list(groups.get(monitoring_group, []))
    is_db_host = host in db_hosts
    is_repository_host = host in repository_hosts
    is_log_collector = host in groups.get(log_collector_group, [])
    log_senders = list(groups.get(servers_group, [])) if is_log_collector else []

    backups = db_hosts + repository_hosts + restore_hosts if is_db_host or is_repository_host else []
    peers = _unique(backups + monitoring_hosts + log_senders)
    addresses = {peer: fact_address(hostvars, peer) or "" for peer in peers}

    # Prometheus reads Patroni's and etcd's metrics from their own ports.
    scrapers = [addresses[peer] for peer in monitoring_hosts if addresses[peer]]
    cluster_addresses: list[str] = []
    patroni_addresses: list[str] = []
    topology = pg_topology(groups, hostvars)
    if is_db_host and host in topology["cluster_of"]:
        cluster = topology["clusters"][topology["cluster_of"][host]]
        addresses_of = cluster["address"]
        cluster_addresses = [addresses_of[member] for member in cluster["members"] if addresses_of.get(member)]
        if cluster["ha"] == "patroni":
            patroni_addresses = _unique([*cluster_addresses, *scrapers])
    etcd_peers = topology["dcs_peers"].get(host, [])
    etcd_clients = _unique(
        member for cluster in topology["clusters"].values() if host in cluster["dcs"] for member in cluster["members"]
    )
    etcd_client_addresses = _addresses(hostvars, _unique([*etcd_peers, *etcd_clients]))

    return {
        "db_hosts": db_hosts,
        "repository_hosts": repository_hosts,
        "restore_hosts": restore_hosts,
        "monitoring_hosts": monitoring_hosts,
        "addresses": addresses,
        "unknown": [peer for peer, address in addresses.items() if not address],
        "is_db_host": is_db_host,
        "is_repository_host": is_repository_host,
        "is_monitoring_host": host in monitoring_hosts,
        "is_log_collector": is_log_collector,
        "log_senders": log_senders,
        "ssh_peers": (repository_hosts if is_db_host else [])
        + (db_hosts + restore_hosts if is_repository_host else []),
        "cluster_addresses": cluster_addresses,
        "patroni_addresses": patroni_addresses,
        "etcd_peer_addresses": _addresses(hostvars, etcd_peers),
        "etcd_client_addresses": _unique([*etcd_client_addresses, *scrapers]) if etcd_peers else [],
    }


def _addresses(hostvars: dict, hosts: list[str]) -> list[str]:
    """Where hosts connect from: their etcd_address, else their default IPv4 address."""
    found = (hostvars.get(host, {}).get("etcd_address") or fact_address(hostvars, host) for host in hosts)
    return [address for address in found if address]


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"firewall_peers": firewall_peers}
