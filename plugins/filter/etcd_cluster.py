# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""etcd_cluster: where the members of an etcd cluster listen, as etcd's and Patroni's settings name them."""

from __future__ import annotations

DOCUMENTATION = r"""
name: etcd_cluster
short_description: Where the members of an etcd cluster listen, as etcd's and Patroni's settings name them
version_added: 0.1.0
description:
  - Takes the hosts of one etcd cluster (C(dcs_peers) of M(groundwork.infra.pg_topology)) and returns each
    member's address (its C(etcd_address), else its default IPv4 address from facts), etcd's
    C(ETCD_INITIAL_CLUSTER) value and the client endpoints Patroni and C(etcdctl) connect to.
options:
  _input:
    description: The hosts of the etcd cluster.
    type: list
    elements: str
    required: true
  hostvars:
    description: The inventory's C(hostvars).
    type: dict
    required: true
  peer_port:
    description: The port members talk to each other on.
    type: int
    default: 2380
  client_port:
    description: The port clients connect to.
    type: int
    default: 2379
"""

EXAMPLES = r"""
- name: Show where etcd's members listen
  ansible.builtin.debug:
    msg: "{{ ['pg1', 'pg2', 'pg3'] | groundwork.infra.etcd_cluster(hostvars) }}"
"""

RETURN = r"""
_value:
  description: The cluster's layout.
  type: dict
  contains:
    address:
      description: Member to its address.
    initial_cluster:
      description: C(name=https://address:peer_port) for every member, comma-separated.
    endpoints:
      description: C(address:client_port) for every member, in the order given.
"""

from ansible.errors import AnsibleFilterError


def _address(hostvars: dict, host: str) -> str:
    values = hostvars.get(host, {})
    address = values.get("etcd_address") or (values.get("ansible_facts", {}).get("default_ipv4") or {}).get("address")
    if not address:
        raise AnsibleFilterError(f"etcd_cluster: no address for {host}; gather its facts or set etcd_address")
    return f"[{address}]" if ":" in address else address


def etcd_cluster(peers: list[str], hostvars: dict, peer_port: int = 2380, client_port: int = 2379) -> dict:
    address = {host: _address(hostvars, host) for host in peers}
    return {
        "address": address,
        "initial_cluster": ",".join(f"{host}=https://{address[host]}:{peer_port}" for host in peers),
        "endpoints": [f"{address[host]}:{client_port}" for host in peers],
    }


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"etcd_cluster": etcd_cluster}
