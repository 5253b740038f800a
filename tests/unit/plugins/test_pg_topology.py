"""groundwork.infra.pg_topology as a table: inventory groups and hostvars in, clusters and problems out."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.infra.plugins.filter.pg_topology import pg_member_hba, pg_topology, slot_name

LAB = {"postgresql_primary": ["pg1"], "postgresql_replica": ["pg2", "pg3"]}


def hostvars(**per_host):
    return {host: dict(values) for host, values in per_host.items()}


def test_the_lab_is_one_cluster_of_three():
    result = pg_topology(LAB, hostvars(pg1={}, pg2={}, pg3={}))
    assert result["problems"] == []
    main = result["clusters"]["main"]
    assert main["primary"] == "pg1"
    assert main["replicas"] == ["pg2", "pg3"]
    assert main["upstream"] == {"pg2": "pg1", "pg3": "pg1"}
    assert main["tier"] == {"pg2": 1, "pg3": 1}
    assert main["slot"]["pg2"] == "gw_pg2"


def test_two_clusters_in_one_inventory():
    groups = {"postgresql_primary": ["a1", "b1"], "postgresql_replica": ["a2", "b2"]}
    hv = hostvars(
        a1={"groundwork_pg_cluster": "alpha"},
        a2={"groundwork_pg_cluster": "alpha"},
        b1={"groundwork_pg_cluster": "beta"},
        b2={"groundwork_pg_cluster": "beta"},
    )
    result = pg_topology(groups, hv)
    assert result["problems"] == []
    assert result["clusters"]["alpha"]["upstream"] == {"a2": "a1"}
    assert result["clusters"]["beta"]["upstream"] == {"b2": "b1"}
    assert result["cluster_of"] == {"a1": "alpha", "a2": "alpha", "b1": "beta", "b2": "beta"}


def test_cascading_replica_is_tier_two():
    hv = hostvars(pg1={}, pg2={}, pg3={"postgresql_replication_upstream": "pg2"})
    main = pg_topology(LAB, hv)["clusters"]["main"]
    assert main["upstream"]["pg3"] == "pg2"
    assert main["tier"] == {"pg2": 1, "pg3": 2}


def test_new_primary_repoints_every_replica():
    hv = hostvars(pg1={}, pg2={}, pg3={"postgresql_replication_upstream": "pg2"})
    result = pg_topology(LAB, hv, primaries={"main": "pg2"})
    main = result["clusters"]["main"]
    assert result["problems"] == []
    assert main["primary"] == "pg2"
    assert main["upstream"] == {"pg1": "pg2", "pg3": "pg2"}


@pytest.mark.parametrize(
    ("groups", "hv", "problem"),
    [
        (
            {"postgresql_primary": ["pg1", "pg2"], "postgresql_replica": ["pg3"]},
            hostvars(pg1={}, pg2={}, pg3={}),
            "cluster main has 2 primaries (pg1, pg2); exactly one is allowed",
        ),
        (
            {"postgresql_primary": ["pg1"], "postgresql_replica": ["pg2"]},
            hostvars(pg1={}, pg2={"groundwork_pg_cluster": "other"}),
            "cluster other has no primary; its replicas pg2 need one",
        ),
        (
            {"postgresql_primary": ["pg1"], "postgresql_replica": ["pg1", "pg2"]},
            hostvars(pg1={}, pg2={}),
            "pg1 is in both postgresql_primary and postgresql_replica",
        ),
        (
            LAB,
            hostvars(pg1={}, pg2={"postgresql_replication_upstream": "pg9"}, pg3={}),
            "cluster main: pg2 has postgresql_replication_upstream=pg9, which is not another member of its cluster",
        ),
        (
            LAB,
            hostvars(
                pg1={},
                pg2={"postgresql_replication_upstream": "pg3"},
                pg3={"postgresql_replication_upstream": "pg2"},
            ),
            "cluster main: replication upstreams form a loop: pg2 -> pg3 -> pg2",
        ),
        (
            {"postgresql_primary": ["pg1"], "postgresql_replica": ["pg2", "pg3", "pg4"]},
            hostvars(
                pg1={},
                pg2={},
                pg3={"postgresql_replication_upstream": "pg2"},
                pg4={"postgresql_replication_upstream": "pg3"},
            ),
            "cluster main: pg4 is 3 hops from the primary; cascading deeper than 2 is not supported",
        ),
    ],
)
def test_problems_are_named(groups, hv, problem):
    assert problem in pg_topology(groups, hv)["problems"]


def test_override_must_be_a_member():
    result = pg_topology(LAB, hostvars(pg1={}, pg2={}, pg3={}), primaries={"main": "db9"})
    assert "cluster main: db9 is not one of its members (pg1, pg2, pg3)" in result["problems"]


@pytest.mark.parametrize(("host", "slot"), [("pg2", "gw_pg2"), ("DB-2.example.com", "gw_db_2_example_com")])
def test_slot_names_are_valid_identifiers(host, slot):
    assert slot_name(host) == slot


def test_addresses_come_from_postgresql_address_or_facts():
    hv = hostvars(
        pg1={"postgresql_address": "10.0.0.1"},
        pg2={"ansible_facts": {"default_ipv4": {"address": "10.0.0.2"}}},
        pg3={},
    )
    assert pg_topology(LAB, hv)["clusters"]["main"]["address"] == {"pg1": "10.0.0.1", "pg2": "10.0.0.2", "pg3": None}


def test_member_hba_lets_every_other_member_stream_and_rewind():
    hv = hostvars(pg1={"postgresql_address": "10.0.0.1"}, pg2={"postgresql_address": "10.0.0.2"},
                  pg3={"postgresql_address": "fd00::3"})  # fmt: skip
    rules = pg_member_hba(pg_topology(LAB, hv)["clusters"]["main"], "pg1", "replicator")
    assert [(r["databases"], r["address"]) for r in rules] == [
        ("replication", "10.0.0.2/32"),
        ("postgres", "10.0.0.2/32"),
        ("replication", "fd00::3/128"),
        ("postgres", "fd00::3/128"),
    ]
    assert {(r["contype"], r["users"], r["method"]) for r in rules} == {("hostssl", "replicator", "scram-sha-256")}


def test_member_hba_without_an_address_is_named():
    with pytest.raises(AnsibleFilterError, match="no address for pg2"):
        pg_member_hba(pg_topology(LAB, hostvars(pg1={}, pg2={}, pg3={}))["clusters"]["main"], "pg1", "replicator")


@pytest.mark.parametrize(
    "name",
    ["main$(id>/tmp/x)", "prod db", "Main", "1st", "", "x" * 64, "a;b", "a'b", "ä"],
    ids=["command", "space", "upper", "digit-first", "empty-as-tag", "too-long", "semicolon", "quote", "non-ascii"],
)
def test_a_cluster_name_that_could_reach_a_shell_is_a_problem(name):
    groups = {"postgresql_primary": ["pg1"], "postgresql_replica": ["pg2"]}
    hv = hostvars(pg1={"groundwork_pg_cluster": name}, pg2={"groundwork_pg_cluster": name})
    problems = pg_topology(groups, hv)["problems"]
    if name == "":  # unset or empty means the default cluster, main
        assert problems == []
        return
    assert any(repr(name) in p and "groundwork_pg_cluster of pg1, pg2" in p for p in problems), problems


@pytest.mark.parametrize("name", ["main", "billing-eu", "orders_2", "a" * 63])
def test_plain_cluster_names_pass(name):
    hv = hostvars(pg1={"groundwork_pg_cluster": name})
    assert pg_topology({"postgresql_primary": ["pg1"]}, hv)["problems"] == []


def test_hosts_whose_slot_names_collide_are_a_problem():
    groups = {"postgresql_primary": ["pg1"], "postgresql_replica": ["pg-2", "pg_2", "PG.2", "pg3"]}
    hv = hostvars(**{h: {} for h in ["pg1", "pg-2", "pg_2", "PG.2", "pg3"]})
    problems = pg_topology(groups, hv)["problems"]
    assert problems == ["cluster main: PG.2, pg-2, pg_2 would all use replication slot gw_pg_2; rename all but one"]


DCS_GROUP_DCS = {"groundwork_pg_ha": "patroni", "groundwork_pg_dcs_group": "dcs"}


def test_a_cluster_is_inventory_driven_unless_it_says_patroni():
    main = pg_topology(LAB, hostvars(pg1={}, pg2={}, pg3={}))
    assert (main["clusters"]["main"]["ha"], main["clusters"]["main"]["dcs"], main["dcs_peers"]) == ("inventory", [], {})
    patroni = {"groundwork_pg_ha": "patroni"}
    result = pg_topology(LAB, hostvars(pg1=patroni, pg2=patroni, pg3=patroni))
    assert result["problems"] == []
    assert result["clusters"]["main"]["ha"] == "patroni"
    assert result["clusters"]["main"]["dcs"] == ["pg1", "pg2", "pg3"]
    assert result["dcs_peers"] == {host: ["pg1", "pg2", "pg3"] for host in ("pg1", "pg2", "pg3")}


def test_a_dedicated_etcd_group_serves_patroni_clusters():
    groups = {**LAB, "postgresql_replica": ["pg2"], "etcd": ["e1", "e2", "e3"]}
    patroni = {"groundwork_pg_ha": "patroni", "groundwork_pg_dcs_group": "etcd"}
    result = pg_topology(groups, hostvars(pg1=patroni, pg2=patroni))
    assert result["problems"] == []
    assert result["clusters"]["main"]["dcs"] == ["e1", "e2", "e3"]
    assert set(result["dcs_peers"]) == {"e1", "e2", "e3"}


@pytest.mark.parametrize(
    ("groups", "hv", "problem"),
    [
        (
            LAB,
            hostvars(pg1={"groundwork_pg_ha": "patroni"}, pg2={}, pg3={}),
            "cluster main: its members disagree on groundwork_pg_ha (inventory: pg2, pg3; patroni: pg1); set it once",
        ),
        (
            LAB,
            hostvars(**{host: {"groundwork_pg_ha": "pacemaker"} for host in ("pg1", "pg2", "pg3")}),
            "cluster main: groundwork_pg_ha must be one of inventory, patroni, not pacemaker",
        ),
        (
            {"postgresql_primary": ["pg1"], "postgresql_replica": ["pg2"]},
            hostvars(pg1={"groundwork_pg_ha": "patroni"}, pg2={"groundwork_pg_ha": "patroni"}),
            "cluster main: Patroni's etcd runs on its members (pg1, pg2); it needs an odd number, at least 3",
        ),
        (
            LAB,
            hostvars(pg1=DCS_GROUP_DCS, pg2=DCS_GROUP_DCS, pg3=DCS_GROUP_DCS),
            "cluster main: groundwork_pg_dcs_group names dcs, which is not a group of the inventory",
        ),
        (
            {"postgresql_primary": ["a1", "b1"], "postgresql_replica": ["a2", "a3", "b2", "b3"], "e": ["a1", "x", "y"]},
            hostvars(
                **{h: {"groundwork_pg_ha": "patroni", "groundwork_pg_cluster": "alpha"} for h in ("a1", "a2", "a3")},
                **{
                    h: {"groundwork_pg_ha": "patroni", "groundwork_pg_cluster": "beta", "groundwork_pg_dcs_group": "e"}
                    for h in ("b1", "b2", "b3")
                },
            ),
            "a1 would run etcd for cluster beta with a1, x, y and for another cluster with a1, a2, a3",
        ),
    ],
)
def test_patroni_clusters_that_cannot_work_are_refused(groups, hv, problem):
    problems = pg_topology(groups, hv)["problems"]
    assert any(p.startswith(problem) for p in problems), problems
