"""Converting the lab's running cluster to Patroni (groundwork_pg_ha=patroni) under a counted writer.

The operator's steps on a hardened cluster: the firewall first (hardening.yml --tags
hardening_firewall), so that the members reach Patroni's REST API and etcd, then postgresql.yml, which
starts etcd on the members and Patroni on the same data, the primary first, then HAProxy on the
members. (A second run changing nothing under Patroni is molecule/patroni's idempotence step.) Last of
the lab's modules: the cluster stays under Patroni (tests/conftest.py's LAB_MODULES).
"""

from __future__ import annotations

import json

import lab
import psycopg
import pytest
from counted_writes import summary
from drills import stop_all, writes_and_samples
from harness import Figures, inside, said, tail
from lab import LabInventory, app_conninfo, on, rows_on

pytestmark = pytest.mark.in_sequence

PATRONI = ["-e", json.dumps({"groundwork_pg_ha": "patroni"})]


def test_the_running_cluster_converts_to_patroni_losing_no_row(inventory: LabInventory, figures: Figures) -> None:
    with psycopg.connect(app_conninfo(["pg1"]), autocommit=True) as connection:  # the drills' table, if none ran
        connection.execute("CREATE TABLE IF NOT EXISTS drill (id bigint PRIMARY KEY)")
    writer, sampler = writes_and_samples()
    try:
        rc, out = inventory.playbook("hardening", "--tags", "hardening_firewall", *PATRONI)
        assert rc == 0, tail(out)
        rc, out = inventory.playbook("postgresql", *lab.PAUSED, *PATRONI)
        assert rc == 0, tail(out)
    finally:
        stop_all(writer, sampler)
    figures.append(summary(writer, sampler, rows_on(app_conninfo(["pg1"])), "patroni conversion of the lab"))

    listed = on("pg1", "patronictl", "-c", f"/etc/patroni/{lab.PG_VERSION}-main.yml", "list", "-f", "json")
    members = {member["Member"]: member for member in json.loads(listed)}
    assert set(members) == set(lab.MEMBERS), listed
    assert members["pg1"]["Role"] == "Leader", listed
    assert all(members[host]["State"] in ("running", "streaming") for host in lab.STANDBYS), listed
    # Debian's unit is masked for good: nothing but Patroni starts the server again.
    for host in lab.MEMBERS:
        assert inside(lab.PREFIX + host, "systemctl", "is-enabled", lab.PG_UNIT).stdout.strip() == "masked", host


def test_clients_reach_the_leader_and_the_replicas_through_haproxy_past_the_firewall() -> None:
    # From this machine (the lab's application network), through each member's HAProxy, which the
    # hardened firewall lets it reach: the read-write port leads to the leader, the read-only one to a replica.
    for entry in lab.MEMBERS:
        for port, recovery in ((5000, False), (5001, True)):
            conninfo = app_conninfo([entry]).replace("port=5432", f"port={port}").replace("read-write", "any")
            with psycopg.connect(conninfo) as connection:
                served = connection.execute("SELECT pg_is_in_recovery()").fetchone()
            assert served == (recovery,), (entry, port, served)


def test_under_patroni_backups_go_on(inventory: LabInventory) -> None:
    rc, out = inventory.playbook("backup_now", *PATRONI, "-e", "pgbackrest_backup_type=incr")
    assert rc == 0, tail(out)
    assert "main: took " in said(out), tail(out)
