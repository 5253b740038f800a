"""Replica drills: a stopped replica's slot held to its limit, a replica that left recovery refused and
rebuilt with its data kept, pg_add_replica copying a new replica.
"""

from __future__ import annotations

import lab
import psycopg
import pytest
from drills import both_replicas_stream_from, slot
from harness import Figures, recap, said, tail
from lab import LabInventory, app_conninfo, on, sql

pytestmark = pytest.mark.in_sequence


def test_a_stopped_replica_holds_wal_only_up_to_the_limit(inventory: LabInventory, figures: Figures) -> None:
    # The role's limit is on (a share of the data disk); the drill lowers it to see it act.
    assert sql("pg1", "SHOW max_slot_wal_keep_size") != "-1"
    sql("pg1", "ALTER SYSTEM SET max_slot_wal_keep_size = '64MB'")
    sql("pg1", "ALTER SYSTEM SET wal_keep_size = 0")
    sql("pg1", "SELECT pg_reload_conf()")
    # Slots nobody streams through: one for a host gone from the inventory, one a former primary kept.
    sql("pg1", "SELECT pg_create_physical_replication_slot('gw_pg9', true)")
    sql("pg2", "SELECT pg_create_physical_replication_slot('gw_pg1')")
    lab.stop_postgresql(inventory.env, "pg3")
    sql("pg1", "CREATE DATABASE slotdrill")
    peak, rounds = 0, 0
    try:
        while slot("pg1", "gw_pg3")["wal_status"] != "lost" and rounds < 10:
            rounds += 1
            on("pg1", "pgbench", "-i", "-q", "-s", "4", "slotdrill", user="postgres")
            peak = max(peak, int(slot("pg1", "gw_pg3")["retained"]))
            sql("pg1", "CHECKPOINT")
        assert slot("pg1", "gw_pg3")["wal_status"] == "lost"
        figures.append(f"slot of a stopped replica: lost after {rounds} pgbench -i -s 4, peak retained {peak >> 20} MB")
        assert peak < 4 * 64 << 20, "the slot held far more WAL than the limit"
    finally:
        sql("pg1", "DROP DATABASE slotdrill")
        sql("pg1", "ALTER SYSTEM RESET max_slot_wal_keep_size")
        sql("pg1", "ALTER SYSTEM RESET wal_keep_size")
        sql("pg1", "SELECT pg_reload_conf()")
        on("pg3", "systemctl", "start", "postgresql@15-main")

    # The next run: pg3 gets a new slot and catches up from the archive; the unused slots are gone.
    rc, out = inventory.playbook("postgresql")
    assert rc == 0, tail(out)
    assert slot("pg1", "gw_pg3")["wal_status"] in ("reserved", "extended")
    assert slot("pg1", "gw_pg9") == {}
    assert slot("pg2", "gw_pg1") == {}
    both_replicas_stream_from(inventory, "pg1")


def test_a_replica_that_is_no_standby_is_refused_and_not_rejoined_then_rebuilt_with_its_data_kept(
    inventory: LabInventory,
) -> None:
    # pg3 left recovery on its own (standby.signal gone): its data may hold writes nobody else has.
    lab.stop_postgresql(inventory.env, "pg3")
    on("pg3", "rm", "/var/lib/postgresql/15/main/standby.signal")
    rc, out = inventory.playbook("postgresql")
    assert rc != 0
    assert "pg3 holds a data directory (/var/lib/postgresql/15/main) that is not a standby" in said(out), tail(out)
    assert "it is a former primary of this cluster" in said(out), tail(out)
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)

    # Started, pg3 is a primary of its own. While a client uses it, pg_rejoin must not drop what it
    # writes there. Its WAL must never reach the repository, which holds the cluster's files under
    # the same names: it is cut off, and crashed (no last WAL switch, as a shutdown makes).
    lab.cut_off("pg3", lab.REPO, 22)
    on("pg3", "systemctl", "start", "postgresql@15-main")
    try:
        with psycopg.connect(app_conninfo(["pg3"]), autocommit=True) as client:
            client.execute("SELECT 1")
            rc, out = inventory.playbook("pg_rejoin", "-e", "pg_rejoin_host=pg3")
    finally:
        lab.crash_postgresql("pg3")
        lab.heal("pg3")
    assert rc != 0
    assert "pg3 runs as a primary with 1 client session(s) (app@app from" in said(out), tail(out)
    assert "Nothing was changed" in said(out)
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)

    rc, out = inventory.playbook("postgresql", "-e", "postgresql_replica_rebuild=true", "--limit", "pg3")
    assert rc == 0, tail(out)
    kept = on("pg3", "sh", "-c", "ls -d /var/lib/postgresql/15/main.rebuild-*")
    assert on("pg3", "cat", f"{kept}/PG_VERSION") == "15"
    assert sql("pg3", "SELECT pg_is_in_recovery()") == "t"
    on("pg3", "rm", "-rf", kept)


def test_pg_add_replica_refuses_a_host_outside_postgresql_replica_then_copies_a_new_one(
    inventory: LabInventory,
) -> None:
    rc, out = inventory.playbook("pg_add_replica", "-e", "pg_add_replica_host=backup1")
    assert rc != 0
    assert "postgresql_add_replica_host must name a host of postgresql_replica; got backup1" in said(out), tail(out)
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)

    # pg3 as a replacement machine comes back: PostgreSQL stopped, no data directory.
    lab.stop_postgresql(inventory.env, "pg3")
    on("pg3", "rm", "-rf", "/var/lib/postgresql/15/main")
    # pg_add_replica ends with backup.yml, which writes the schedules: the suite's paused ones, as every run's.
    rc, out = inventory.playbook("pg_add_replica", "-e", "pg_add_replica_host=pg3", *lab.PAUSED)
    assert rc == 0, tail(out)
    assert recap(out)["pg3"]["changed"] > 0
    assert sql("pg3", "SELECT pg_is_in_recovery()") == "t"
    both_replicas_stream_from(inventory, "pg1")
