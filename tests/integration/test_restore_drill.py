"""The restore drill: point-in-time restore to the restore target, refusal over live data, a restore in
place that leaves no replica on the old history.
"""

from __future__ import annotations

import json
import time

import lab
import pytest
from drills import both_replicas_stream_from
from harness import Figures, changed_or_failed, recap, said, tail
from lab import PAUSED, LabInventory, on, sql

pytestmark = pytest.mark.in_sequence

LEDGER = "SELECT count(*), md5(string_agg(id || note, ',' ORDER BY id)) FROM ledger"


def test_backup_yml_changes_nothing_on_the_converged_lab(inventory: LabInventory) -> None:
    # backup.yml's second run (site.yml's first run set the same, paused, schedules).
    rc, out = inventory.playbook("backup", *PAUSED)
    assert rc == 0, tail(out)
    assert changed_or_failed(out) == {}, tail(out)


def test_point_in_time_restore_holds_exactly_the_rows_of_that_time(inventory: LabInventory, figures: Figures) -> None:
    sql(lab.PRIMARY, "CREATE TABLE ledger (id bigint PRIMARY KEY, note text)")
    sql(lab.PRIMARY, "INSERT INTO ledger SELECT g, md5(g::text) FROM generate_series(1, 1000) g")
    rc, out = inventory.playbook("backup_now", "-e", "pgbackrest_backup_type=full")
    assert rc == 0, tail(out)
    assert "main: took " in said(out)
    sql(lab.PRIMARY, "INSERT INTO ledger SELECT g, md5(g::text) FROM generate_series(1001, 2000) g")
    time.sleep(1)
    target_time = sql(lab.PRIMARY, "SELECT now()")
    at_target = sql(lab.PRIMARY, LEDGER)
    time.sleep(1)
    sql(lab.PRIMARY, "INSERT INTO ledger SELECT g, md5(g::text) FROM generate_series(2001, 3000) g")
    lab.repository("check")  # the WAL past the target is archived

    request = {
        "pgbackrest_restore_host": lab.RESTORE,
        "pgbackrest_restore_target_type": "time",
        "pgbackrest_restore_target": target_time,
    }
    rc, out = inventory.playbook("restore", "-e", json.dumps(request))
    assert rc == 0, tail(out)
    figures.append(
        f"point-in-time restore to {target_time}: ledger {at_target} on the primary then, "
        f"{sql(lab.RESTORE, LEDGER)} restored"
    )
    assert sql(lab.RESTORE, LEDGER) == at_target
    assert sql(lab.RESTORE, "SELECT min(id), max(id) FROM ledger") == "1|2000"
    assert sql(lab.RESTORE, "SELECT pg_is_in_recovery(), current_setting('archive_mode')") == "f|off"


def test_restore_over_the_running_primary_is_refused_and_changes_nothing(inventory: LabInventory) -> None:
    before = sql(lab.PRIMARY, LEDGER)
    rc, out = inventory.playbook("restore", "-e", f"pgbackrest_restore_host={lab.PRIMARY}")
    assert rc != 0
    assert f"{lab.PRIMARY} holds live PostgreSQL data (/var/lib/postgresql/15/main" in said(out), tail(out)
    assert "the primary of cluster main). A restore there would replace it, so nothing was changed." in said(out)
    assert changed_or_failed(out) == {lab.PRIMARY: 0}, tail(out)
    assert sql(lab.PRIMARY, "SELECT pg_is_in_recovery()") == "f"
    assert sql(lab.PRIMARY, LEDGER) == before


def test_a_restore_in_place_leaves_no_replica_on_the_old_history(inventory: LabInventory, figures: Figures) -> None:
    # The primary restored in place to a point in time, after its replicas had received the rows that
    # came later: they share its system identifier, but not its history.
    sql(lab.PRIMARY, "CREATE TABLE rollback (id int)")
    sql(lab.PRIMARY, "INSERT INTO rollback SELECT generate_series(1, 100)")
    time.sleep(1)
    target_time = sql(lab.PRIMARY, "SELECT now()")
    time.sleep(1)
    sql(lab.PRIMARY, "INSERT INTO rollback SELECT generate_series(101, 200)")
    lab.repository("check")  # the WAL past the target is archived
    both_replicas_stream_from(inventory, lab.PRIMARY)
    request = {
        "pgbackrest_restore_host": lab.PRIMARY,
        "pgbackrest_restore_target_type": "time",
        "pgbackrest_restore_target": target_time,
        "pgbackrest_restore_overwrite": True,
    }
    rc, out = inventory.playbook("restore", "-e", json.dumps(request))
    assert rc == 0, tail(out)
    assert sql(lab.PRIMARY, "SELECT count(*) FROM rollback") == "100"
    for standby in lab.STANDBYS:
        assert sql(standby, "SELECT count(*) FROM rollback") == "200"

    # Nothing runs around replicas that serve rows the primary no longer has; pg_rejoin brings each back.
    rc, out = inventory.playbook("postgresql")
    assert rc != 0
    for standby in lab.STANDBYS:
        assert f"{standby} has left the history of its primary {lab.PRIMARY}: it holds WAL of timeline" in said(out)
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)
    started = time.monotonic()
    for standby in lab.STANDBYS:
        rc, out = inventory.playbook("pg_rejoin", "-e", f"pg_rejoin_host={standby}")
        assert rc == 0, tail(out)
        assert f"{standby} streams from {lab.PRIMARY} again" in said(out), tail(out)
    figures.append(
        f"restore in place: both replicas back on the primary's history in {time.monotonic() - started:.0f} s"
    )
    # No copy kept the restore's recovery target: commits past its time leave the replicas standbys
    # (with it, each stopped at its first such commit and promoted itself).
    for host in lab.MEMBERS:
        assert "recovery_target" not in on(host, "cat", "/var/lib/postgresql/15/main/postgresql.auto.conf"), host
    sql(lab.PRIMARY, "INSERT INTO rollback SELECT generate_series(101, 150)")
    both_replicas_stream_from(inventory, lab.PRIMARY)
    for standby in lab.STANDBYS:
        assert sql(standby, "SELECT pg_is_in_recovery(), count(*) FROM rollback") == "t|150", standby
    on(
        lab.PRIMARY,
        "sh",
        "-c",
        "rm -rf /var/lib/postgresql/15/main.before-restore-* /var/lib/postgresql/15/main.rejoin-*",
    )
    for standby in lab.STANDBYS:
        on(standby, "sh", "-c", "rm -rf /var/lib/postgresql/15/main.rejoin-*")
