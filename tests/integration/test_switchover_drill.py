"""The switchover drill: refused while the primary cannot archive or cannot stop, then done under a
counted writer with no acknowledged commit lost; the stale inventory refused, the edited one matching.
"""

from __future__ import annotations

import time

import lab
import psycopg
import pytest
from counted_writes import Writer
from drills import both_replicas_stream_from, stop_all, writes_and_samples
from harness import Figures, changed_or_failed, inside, said, tail, warnings_in
from lab import LabInventory, app_conninfo, on, rows_on, sql

pytestmark = pytest.mark.in_sequence


def test_a_switchover_is_refused_while_the_primary_cannot_archive(inventory: LabInventory) -> None:
    # pg1 loses its repository. Its shutdown would wait for the last WAL file to be archived, and
    # once killed leave it out of the archive for good: the switchover must refuse before any change.
    with psycopg.connect(app_conninfo(list(lab.MEMBERS)), autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS drill (id bigint PRIMARY KEY)")
    lab.cut_off("pg1", lab.REPO, 22)
    writer, sampler = writes_and_samples()
    try:
        rc, out = inventory.playbook(
            "pg_switchover", "-e", "pg_switchover_target=pg2", "-e", "postgresql_archive_wait=20"
        )
    finally:
        lab.heal("pg1")
        stop_all(writer, sampler)
    assert rc != 0
    assert "pg1 did not archive WAL file" in said(out), tail(out)
    assert "Nothing was changed" in said(out)
    assert changed_or_failed(out) == {"pg1": 0}, tail(out)
    assert not [sample for sample in sampler.samples if set(sample) - {"pg1"}], "a replica was promoted"
    assert writer.in_doubt == set(), "pg1 cut its clients off"
    assert set(writer.acknowledged) - rows_on(app_conninfo(["pg1"])) == set()


def test_a_switchover_whose_primary_cannot_stop_promotes_nothing(inventory: LabInventory) -> None:
    # A process the shutdown waits for is stuck (here pg1's walsender for pg3, frozen as on a hung
    # disk): the fast shutdown, with writes already refused, does not end, and Debian's unit would
    # wait an hour. The switchover must say so within its bound and promote nobody.
    walsender = sql("pg1", "SELECT pid FROM pg_stat_replication WHERE application_name = 'gw_pg3'")
    on("pg1", "kill", "-STOP", walsender)
    writer, sampler = writes_and_samples()
    try:
        rc, out = inventory.playbook(
            "pg_switchover", "-e", "pg_switchover_target=pg2", "-e", "postgresql_stop_timeout=20"
        )
    finally:
        on("pg1", "kill", "-CONT", walsender)
    assert rc != 0
    assert "PostgreSQL on pg1 did not stop within 20 s; nothing was promoted" in said(out), tail(out)
    assert "walsender" in said(out), tail(out)
    # The walsender moves again: the shutdown ends; the operator starts pg1 again as the primary.
    for _ in range(120):
        if inside(lab.PREFIX + "pg1", "systemctl", "is-active", "postgresql@15-main").returncode:
            break
        time.sleep(1)
    on("pg1", "systemctl", "start", "postgresql@15-main")
    both_replicas_stream_from(inventory, "pg1")
    stop_all(writer, sampler)
    assert sampler.split() == [], "two members took writes at once"
    assert not [sample for sample in sampler.samples if set(sample) - {"pg1"}], "a replica was promoted"
    assert set(writer.acknowledged) - rows_on(app_conninfo(["pg1"])) == set()


def test_switchover_under_writes_loses_no_committed_transaction(inventory: LabInventory, figures: Figures) -> None:
    conninfo = app_conninfo(list(lab.MEMBERS))
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS drill (id bigint PRIMARY KEY)")
        connection.execute("TRUNCATE drill")
    # And systemd will not see pg1's unit stop (a process it did not start outlives the postmaster):
    # the switchover goes by PostgreSQL's own state, or it would wait out the stop timeout and fail.
    lab.outlive_postgresql_in_its_unit("pg1")
    writer = Writer(conninfo)
    writer.start()
    time.sleep(3)
    rc, out = inventory.playbook("pg_switchover", "-e", "pg_switchover_target=pg2", "-e", "postgresql_stop_timeout=60")
    time.sleep(3)
    writer.stop()
    assert rc == 0, tail(out)
    assert warnings_in(out) == []
    assert "move pg2 into postgresql_primary and pg1 into postgresql_replica" in said(out)
    assert "systemd had not seen PostgreSQL on pg1 stop" in said(out), tail(out)
    present = rows_on(conninfo)
    acknowledged = set(writer.acknowledged)
    figures.append(
        f"switchover: {len(acknowledged)} commits acknowledged, {len(present)} rows present, "
        f"{len(writer.in_doubt)} in doubt, longest write gap {writer.longest_gap():.2f} s"
    )
    assert acknowledged - present == set(), "acknowledged commits are missing after the switchover"
    assert present - acknowledged <= writer.in_doubt, "rows nobody wrote appeared"
    assert len(present - writer.in_doubt) == len(acknowledged - writer.in_doubt)


def test_stale_inventory_is_refused_before_any_change(inventory: LabInventory) -> None:
    rc, out = inventory.playbook("postgresql")
    assert rc != 0
    assert "The inventory makes pg1 the primary of cluster main, but it runs as a standby" in said(out)
    assert changed_or_failed(out) == {"pg1": 0}


def test_inventory_edited_after_switchover_matches_the_cluster(inventory: LabInventory) -> None:
    # postgresql.yml's second run on the cluster it built: nothing to change.
    inventory.write(primary="pg2")
    rc, out = inventory.playbook("postgresql")
    assert rc == 0, tail(out)
    assert changed_or_failed(out) == {}, tail(out)
