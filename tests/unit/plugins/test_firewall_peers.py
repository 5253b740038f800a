"""groundwork.infra.firewall_peers as a table: the lab's inventory in, each host's firewall view out."""

import pytest
from ansible_collections.groundwork.infra.plugins.filter.firewall_peers import firewall_peers

LAB_HOSTS = ["pg1", "pg2", "pg3", "backup1", "restore1", "mon1"]
GROUPS = {
    "all": LAB_HOSTS,
    "postgresql": ["pg1", "pg2", "pg3"],
    "postgresql_primary": ["pg1"],
    "postgresql_replica": ["pg2", "pg3"],
    "backup_repository": ["backup1"],
    "restore_targets": ["restore1"],
    "monitoring": ["mon1"],
    "log_collector": ["mon1"],
    "servers": LAB_HOSTS,
}
ADDRESS = {"pg1": "10.0.0.1", "pg2": "10.0.0.2", "pg3": "10.0.0.3", "backup1": "10.0.0.4", "restore1": "10.0.0.5",
           "mon1": "10.0.0.6"}  # fmt: skip


def hostvars(**overrides):
    """Every host with facts (its default IPv4 address) and no cluster name; overrides replace a host's variables."""
    known = {host: {"ansible_facts": {"default_ipv4": {"address": address}}} for host, address in ADDRESS.items()}
    return known | overrides


def view(host, hv=None, **options):
    return firewall_peers(GROUPS, hostvars() if hv is None else hv, host, restore_groups=["restore_targets"], **options)


@pytest.mark.parametrize(
    ("host", "ssh_peers", "peers", "cluster"),
    [
        # A member lets the repository host's pgBackRest in, its cluster in for PostgreSQL.
        ("pg2", ["backup1"], LAB_HOSTS, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
        # The repository host lets the database hosts and the restore targets in.
        ("backup1", ["pg1", "pg2", "pg3", "restore1"], LAB_HOSTS, []),
        # A restore target and the monitoring host: only the monitoring host, for the exporters.
        ("restore1", [], ["mon1"], []),
        # The monitoring host also collects the logs: every server sends to it.
        ("mon1", [], ["mon1", "pg1", "pg2", "pg3", "backup1", "restore1"], []),
    ],
)
def test_each_lab_host_sees_its_peers(host, ssh_peers, peers, cluster):
    result = view(host)
    assert result["ssh_peers"] == ssh_peers
    assert list(result["addresses"]) == peers
    assert result["addresses"] == {peer: ADDRESS[peer] for peer in peers}
    assert result["cluster_addresses"] == cluster
    assert result["unknown"] == []
    assert result["is_db_host"] == (host in GROUPS["postgresql"])
    assert result["is_repository_host"] == (host == "backup1")
    assert result["is_monitoring_host"] == (host == "mon1")
    assert result["is_log_collector"] == (host == "mon1")
    assert result["log_senders"] == (LAB_HOSTS if host == "mon1" else [])


def test_a_peer_without_facts_is_unknown_rather_than_left_out():
    # Preflight stops the run on it: a firewall written without pg3 would cut its replication off.
    hv = hostvars(pg3={})
    result = view("pg1", hv)
    assert result["addresses"]["pg3"] == ""
    assert result["unknown"] == ["pg3"]
    assert result["cluster_addresses"] == ["10.0.0.1", "10.0.0.2"]


def test_the_cluster_is_found_by_its_name_and_streams_from_postgresql_address():
    # Two clusters: each member lets in its own cluster alone, at postgresql_address where it is set.
    hv = hostvars(
        pg1={"groundwork_pg_cluster": "alpha", "ansible_facts": {"default_ipv4": {"address": "10.0.0.1"}}},
        pg2={"groundwork_pg_cluster": "alpha", "postgresql_address": "192.0.2.2"},
        pg3={"groundwork_pg_cluster": "beta", "ansible_facts": {"default_ipv4": {"address": "10.0.0.3"}}},
    )
    assert view("pg1", hv)["cluster_addresses"] == ["10.0.0.1", "192.0.2.2"]
    assert view("pg3", hv)["cluster_addresses"] == ["10.0.0.3"]


def test_a_restore_group_member_that_is_a_database_host_is_not_a_restore_peer():
    groups = GROUPS | {"restore_targets": ["restore1", "pg3"]}
    result = firewall_peers(groups, hostvars(), "backup1", restore_groups=["restore_targets"])
    assert result["restore_hosts"] == ["restore1"]
    assert result["ssh_peers"] == ["pg1", "pg2", "pg3", "restore1"]


def test_other_group_names_are_honoured_and_missing_groups_are_empty():
    groups = {"db": ["d1"], "repo": ["r1"]}
    hv = {"d1": {"ansible_facts": {"default_ipv4": {"address": "10.1.0.1"}}}, "r1": {}}
    result = firewall_peers(groups, hv, "d1", db_group="db", repository_group="repo", monitoring_group="none")
    assert result["ssh_peers"] == ["r1"]
    assert result["monitoring_hosts"] == []
    assert result["unknown"] == ["r1"]
    assert result["cluster_addresses"] == []  # d1 is in no postgresql_primary/replica group


def test_an_inventory_driven_cluster_opens_nothing_for_patroni_or_etcd():
    pg1 = view("pg1")
    assert (pg1["patroni_addresses"], pg1["etcd_peer_addresses"], pg1["etcd_client_addresses"]) == ([], [], [])


def test_a_patroni_cluster_lets_its_members_reach_patroni_and_etcd():
    members = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    patroni = {host: {**hostvars()[host], "groundwork_pg_ha": "patroni"} for host in ("pg1", "pg2", "pg3")}
    pg2 = view("pg2", hostvars(**patroni))
    # The monitoring host (mon1) reads both REST API and etcd's metrics.
    assert pg2["patroni_addresses"] == [*members, "10.0.0.6"]
    assert pg2["etcd_peer_addresses"] == members
    assert pg2["etcd_client_addresses"] == [*members, "10.0.0.6"]
    assert view("backup1", hostvars(**patroni))["etcd_client_addresses"] == []


def test_a_dedicated_etcd_host_lets_the_members_it_serves_in_as_clients():
    groups = {**GROUPS, "etcd": ["backup1", "restore1", "mon1"]}
    patroni = {
        host: {**hostvars()[host], "groundwork_pg_ha": "patroni", "groundwork_pg_dcs_group": "etcd"}
        for host in ("pg1", "pg2", "pg3")
    }
    mon1 = firewall_peers(groups, hostvars(**patroni), "mon1")
    # The etcd hosts in name order: backup1, mon1, restore1.
    assert mon1["etcd_peer_addresses"] == ["10.0.0.4", "10.0.0.6", "10.0.0.5"]
    assert mon1["etcd_client_addresses"] == ["10.0.0.4", "10.0.0.6", "10.0.0.5", "10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert firewall_peers(groups, hostvars(**patroni), "pg1")["etcd_peer_addresses"] == []
