"""Drills on the converged lab, after test_lab_site.py and test_lab_cluster.py have checked it.

The cluster drill: switchover under a counted writer, the stale and the edited inventory, failover
and rejoin. It ends with the primary it started with, so the backup drill then finds the cluster as
the lab's inventory describes it: point-in-time restore, refusal over live data, schedules,
incrementals under pgbench, a standby's backup restored, verify_backup and a corrupted repository
file. The inventory is the source of truth: after each switchover or failover the drill edits it,
as the playbooks tell the operator to.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import lab
import psycopg
import pytest
from harness import Figures, changed_or_failed, inside, project_env, recap, run, said, tail, warnings_in
from lab import PAUSED, LabInventory, PrimarySampler, Writer, app_conninfo, on, rows_on, sql

pytestmark = pytest.mark.in_sequence

LEDGER = "SELECT count(*), md5(string_agg(id || note, ',' ORDER BY id)) FROM ledger"


@pytest.fixture(scope="module")
def inventory(converged_lab: dict[str, str]) -> LabInventory:
    drill = LabInventory(converged_lab)
    drill.write(primary="pg1")
    return drill


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


def both_replicas_stream_from(inventory: LabInventory, primary: str) -> None:
    """Wait until both replicas stream from the primary with nothing left to replay (fails after 300 s)."""
    waited = run(
        ["ansible", "-i", str(inventory.path), primary, "-b", "--become-user", "postgres", "-o",
         "-m", "groundwork.infra.pg_replication_info", "-a", "wait=true min_replicas=2 max_lag_bytes=0"],
        env=inventory.env,
    )  # fmt: skip
    assert waited.returncode == 0, tail(waited.stdout)


def writes_and_samples() -> tuple[Writer, PrimarySampler]:
    """A counted writer on whichever member is primary, and a sampler asking every member if it is."""
    with psycopg.connect(app_conninfo(list(lab.MEMBERS)), autocommit=True) as connection:
        connection.execute("TRUNCATE drill")
    writer, sampler = Writer(app_conninfo(list(lab.MEMBERS))), PrimarySampler()
    writer.start()
    sampler.start()
    time.sleep(2)
    return writer, sampler


def stop_all(writer: Writer, sampler: PrimarySampler) -> None:
    writer.stop()
    sampler.stop()
    assert writer.acknowledged, "the writer never committed: the drill proves nothing"


def test_failover_is_refused_while_anyone_still_reaches_the_primary(inventory: LabInventory) -> None:
    # pg2 is the primary (the switchover above). pg1, the replica the old check ran on, loses pg2's
    # PostgreSQL port; the controller, the clients and pg3 still reach it and pg2 still commits.
    lab.cut_off("pg1", "pg2", 5432)
    writer, sampler = writes_and_samples()
    try:
        rc, out = inventory.playbook("pg_failover")
    finally:
        stop_all(writer, sampler)
        lab.heal("pg1")
    assert rc != 0
    assert "pg2 still accepts connections on its PostgreSQL port from the controller, pg3" in said(out), tail(out)
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)
    assert sampler.split() == [], "two members took writes at once"
    assert not [sample for sample in sampler.samples if set(sample) - {"pg2"}], "a replica was promoted"
    assert set(writer.acknowledged) - rows_on(app_conninfo(["pg2"])) == set()


def test_failover_fences_a_primary_whose_postgresql_died(inventory: LabInventory, figures: Figures) -> None:
    # PostgreSQL on pg2 dies (killed, as the OOM killer does); the host itself stays up.
    writer, sampler = writes_and_samples()
    postmaster = on("pg2", "head", "-1", "/var/lib/postgresql/15/main/postmaster.pid").strip()
    killed_at = time.monotonic()
    on("pg2", "kill", "-KILL", postmaster)
    started = time.monotonic()
    rc, out = inventory.playbook("pg_failover")
    took = time.monotonic() - started
    assert rc == 0, tail(out)
    assert "pg2 is fenced (stopped and masked)" in said(out), tail(out)
    # The replica that received the most WAL; ties go to pg1 (inventory order).
    promoted = re.search(r"Failover done: (pg[13]) ", said(out))
    assert promoted, tail(out)
    new = promoted[1]
    time.sleep(3)

    # pg2 reboots: its PostgreSQL stays down, the way pg_failover left it.
    lab.container("restart", "pg2")
    time.sleep(5)
    stop_all(writer, sampler)
    unit = inside(lab.PREFIX + "pg2", "systemctl", "is-enabled", "postgresql@15-main")
    assert unit.stdout.strip() == "masked"
    assert not sampler.takes_writes("pg2")
    assert sampler.split() == [], "two members took writes at once"
    present = rows_on(app_conninfo([new]))
    lost = set(writer.acknowledged) - present
    # Replication is asynchronous: only what pg2 acknowledged in its last moments may be missing.
    settled = {n for n, at in zip(writer.acknowledged, writer.commit_times, strict=True) if at < killed_at - 1}
    assert settled - present == set(), "commits acknowledged well before the crash are missing"
    figures.append(
        f"failover (pg2's postmaster killed): playbook {took:.1f} s, longest write gap {writer.longest_gap():.1f} s, "
        f"{len(writer.acknowledged)} commits acknowledged, {len(lost)} lost (asynchronous replication)"
    )

    # The inventory not edited yet: postgresql.yml refuses, naming both hosts, and changes nothing.
    rc, out = inventory.playbook("postgresql")
    assert rc != 0
    assert f"{new} runs as a primary, but the inventory makes it a replica of cluster main" in said(out), tail(out)
    assert "pg2 was fenced by pg_failover" in said(out), tail(out)
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)

    # Edited, and pg2 brought back while its sshd is still coming up (a host still booting).
    inventory.write(primary=new)
    on("pg2", "systemctl", "stop", "ssh")
    on("pg2", "systemd-run", "--on-active=10", "systemctl", "start", "ssh")
    rc, out = inventory.playbook("pg_rejoin", "-e", "pg_rejoin_host=pg2")
    assert rc == 0, tail(out)
    assert f"pg2 streams from {new} again, after pg_rewind" in said(out), tail(out)
    assert "pg_rewind: servers diverged at WAL location" in said(out), tail(out)
    unit = inside(lab.PREFIX + "pg2", "systemctl", "is-enabled", "postgresql@15-main")
    assert unit.stdout.strip() == "enabled"
    with psycopg.connect(app_conninfo(list(lab.MEMBERS)), autocommit=True) as connection:
        connection.execute("INSERT INTO drill SELECT max(id) + 1 FROM drill")
    rc, out = inventory.playbook("postgresql")
    assert rc == 0, tail(out)
    assert changed_or_failed(out) == {}, tail(out)
    # Whole again: one primary, both replicas streaming through their slots with nothing left to replay.
    both_replicas_stream_from(inventory, new)
    for standby in set(lab.MEMBERS) - {new}:
        assert sql(standby, "SELECT pg_is_in_recovery()") == "t"
    # The backup drill expects the lab's own primary.
    if new != lab.PRIMARY:
        rc, out = inventory.playbook("pg_switchover", "-e", f"pg_switchover_target={lab.PRIMARY}")
        assert rc == 0, tail(out)
        inventory.write(primary=lab.PRIMARY)


def test_failover_refuses_a_primary_nobody_can_fence(inventory: LabInventory, tmp_path: Path) -> None:
    # pg1's host dies at once (power lost): SSH cannot stop it, and it would come back a primary.
    lab.container("kill", "pg1")
    rc, out = inventory.playbook("pg_failover")
    assert rc != 0
    assert "SSH cannot reach pg1, so it cannot be stopped and masked from here" in said(out), tail(out)
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)

    # The operator's fencing command (a cloud API stop, say) gets the host and its address; when it
    # fails, the host may still be up, and nothing is promoted.
    called = tmp_path / "fence-called"
    fence = ["sh", "-c", f'echo "$@" > {called}; echo "no such instance" >&2; exit 3', "fence"]
    rc, out = inventory.playbook("pg_failover", "-e", json.dumps({"pg_failover_fence_command": fence}))
    assert rc != 0
    assert "The fencing command sh exited 3 (no such instance), so pg1 may still be up" in said(out), tail(out)
    assert called.read_text().split()[0] == "pg1"
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)
    for standby in lab.STANDBYS:
        assert sql(standby, "SELECT pg_is_in_recovery()") == "t"
    # Power back: pg1 is the primary it was, and both replicas stream from it again.
    lab.container("start", "pg1")
    both_replicas_stream_from(inventory, "pg1")


def slot(host: str, name: str) -> dict[str, str]:
    query = (
        "SELECT wal_status, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint "
        f"FROM pg_replication_slots WHERE slot_name = '{name}'"
    )
    row = sql(host, query)
    return dict(zip(("wal_status", "retained"), row.split("|"), strict=True)) if row else {}


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
    rc, out = inventory.playbook("pg_add_replica", "-e", "pg_add_replica_host=pg3")
    assert rc == 0, tail(out)
    assert recap(out)["pg3"]["changed"] > 0
    assert sql("pg3", "SELECT pg_is_in_recovery()") == "t"
    both_replicas_stream_from(inventory, "pg1")


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


def test_a_schedule_systemd_cannot_read_is_refused_before_any_change(inventory: LabInventory) -> None:
    timer = "/etc/systemd/system/pgbackrest-main-full.timer"
    before = lab.on(lab.REPO, "cat", timer)
    request = {"pgbackrest_schedules": {**lab.FAR_SCHEDULES, "full": "every other tuesday", "incr": ""}}
    rc, out = inventory.playbook("backup", "-e", json.dumps(request))
    assert rc != 0
    assert "systemd cannot read the schedule of full (see `man systemd.time`" in said(out), tail(out)
    assert changed_or_failed(out) == {lab.REPO: 0}, tail(out)
    assert lab.on(lab.REPO, "cat", timer) == before


def test_a_schedule_taken_away_stops_its_timer_before_removing_it(inventory: LabInventory) -> None:
    # The fault: the role looked for the timer's file on the controller (Jinja's `is file`), never
    # found it, and so removed the file of a timer still running and enabled at boot.
    timer = "pgbackrest-main-incr.timer"

    def active() -> str:
        return lab.on(lab.REPO, "systemctl", "show", "--property=ActiveState", "--value", timer)

    def started_at_boot() -> list[str]:
        return lab.on(lab.REPO, "ls", "/etc/systemd/system/timers.target.wants").split()

    assert active() == "active"
    assert timer in started_at_boot()
    without_incr = {"pgbackrest_schedules": {**lab.FAR_SCHEDULES, "incr": ""}}
    rc, out = inventory.playbook("backup", "-e", json.dumps(without_incr))
    assert rc == 0, tail(out)
    assert active() == "inactive"
    assert timer not in started_at_boot()
    assert {"pgbackrest-main-full.timer", "pgbackrest-main-diff.timer"} <= set(started_at_boot())
    lab.on(lab.REPO, "test", "!", "-e", f"/etc/systemd/system/{timer}")


def test_incremental_backups_while_pgbench_writes(inventory: LabInventory, figures: Figures) -> None:
    lab.on(lab.PRIMARY, "pgbench", "-i", "-q", "-s", "10", "postgres", user="postgres")
    # At a steady 300 transactions a second (a busy application's rate, not the machine's limit):
    # unbounded, pgbench takes both cores of the suite's machine from everything running beside it.
    bench = subprocess.Popen(
        ["podman", "exec", lab.PREFIX + lab.PRIMARY, "runuser", "-u", "postgres", "--",
         "pgbench", "-c", "4", "-j", "2", "-R", "300", "-T", "60", "postgres"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=project_env(),
    )  # fmt: skip
    archive_lag = lab.ArchiveLag()
    archive_lag.start()
    taken = []
    for _ in range(2):
        rc, out = inventory.playbook("backup_now", "-e", "pgbackrest_backup_type=incr")
        assert rc == 0, tail(out)
        taken.append(lab.repository_info()["backup"][-1])
    bench_out, _ = bench.communicate(timeout=300)
    archive_lag.stop()
    assert bench.returncode == 0, bench_out
    assert [b["type"] for b in taken] == ["incr", "incr"]
    assert taken[1]["prior"] == taken[0]["label"]
    tps = next((line for line in bench_out.splitlines() if line.startswith("tps")), "tps ?")
    samples = archive_lag.samples
    figures.append(
        f"incrementals under pgbench ({tps.split('(')[0].strip()}): "
        + ", ".join(f"{b['label']} {b['timestamp']['stop'] - b['timestamp']['start']} s" for b in taken)
        + f"; WAL archive lag over {len(samples)} samples: max {max(samples) / 2**20:.1f} MiB, "
        f"mean {sum(samples) / len(samples) / 2**20:.1f} MiB"
    )
    # Archiving kept up: once writes stop, everything written is archived, without a failure.
    lab.repository("check")
    assert sql(lab.PRIMARY, "SELECT failed_count FROM pg_stat_archiver") == "0"


def test_a_backup_taken_from_the_standby_restores(inventory: LabInventory) -> None:
    sources = lab.backup_log_sources()
    from_standbys = sum(sources.get(lab.address(standby), 0) for standby in lab.STANDBYS)
    assert from_standbys > sources.get(lab.address(lab.PRIMARY), 0), f"files copied per host: {sources}"
    label = lab.repository_info()["backup"][-1]["label"]
    accounts = sql(lab.PRIMARY, "SELECT count(*) FROM pgbench_accounts")
    request = {
        "pgbackrest_restore_host": lab.RESTORE,
        "pgbackrest_restore_set": label,
        "pgbackrest_restore_target_type": "immediate",
        "pgbackrest_restore_overwrite": True,
    }
    rc, out = inventory.playbook("restore", "-e", json.dumps(request))
    assert rc == 0, tail(out)
    assert f"from backup {label} on {lab.RESTORE}" in said(out)
    assert "The data it replaced is kept in /var/lib/postgresql/15/main.before-restore-" in said(out)
    assert sql(lab.RESTORE, "SELECT count(*) FROM pgbench_accounts") == accounts
    assert sql(lab.RESTORE, "SELECT count(*) FROM ledger") == "3000"
    kept = lab.on(lab.RESTORE, "ls", "/var/lib/postgresql/15").split()
    assert any(name.startswith("main.before-restore-") for name in kept), kept


def test_backup_module_backs_up_only_when_needed(inventory: LabInventory) -> None:
    count = len(lab.repository_info()["backup"])
    rc, result = inventory.module(lab.REPO, "groundwork.infra.pgbackrest_backup", "stanza=main type=full newer_than=1d")
    assert (rc, result["changed"], result["ran"]) == (0, False, False), result
    assert result["backup"]["type"] == "full"
    rc, result = inventory.module(
        lab.REPO, "groundwork.infra.pgbackrest_backup", "stanza=main type=incr newer_than=1s", "--check"
    )
    assert (rc, result["changed"], result["ran"]) == (0, True, True), result
    rc, result = inventory.module(lab.REPO, "groundwork.infra.pgbackrest_info", "stanza=main")
    assert rc == 0
    assert result["stanza"]["ok"] is True
    assert len(result["stanza"]["backups"]) == count, "check mode took a backup"
    assert result["stanza"]["newest_backup_age"] < 3600


def test_verify_backup_proves_the_newest_backup(inventory: LabInventory) -> None:
    request = {"pgbackrest_verify_tables": ["ledger", "pgbench_accounts"]}
    rc, out = inventory.playbook("verify_backup", "-e", json.dumps(request))
    assert rc == 0, tail(out)
    assert "restores, and the restored data matches the primary" in said(out)
    assert "pg_amcheck: no corruption found" in said(out)


def test_a_corrupted_repository_file_is_caught(inventory: LabInventory) -> None:
    label = lab.repository_info()["backup"][-1]["label"]
    backup_dir = f"/var/lib/pgbackrest/backup/main/{label}/pg_data"
    largest = f"find {backup_dir} -type f -printf '%s %p\\n' | sort -n | tail -1"
    victim = lab.on(lab.REPO, "sh", "-c", largest).split()[1]
    lab.on(lab.REPO, "sh", "-c", f"printf 'corrupted' | dd of={victim} bs=1 seek=100 conv=notrunc status=none")
    verified = lab.repository("--log-level-console=info", "verify")
    assert f"backup: {label}, status: invalid" in verified, verified
    rc, out = inventory.playbook("verify_backup")
    assert rc != 0
    assert f"Backup {label} of stanza main FAILED verification" in said(out), tail(out)
    # The scratch restore fails on the damaged file too (a checksum mismatch or a zstd format error,
    # depending on where the bytes fell), and the report says so.
    assert "the scratch server failed at Restore up to the restore point" in said(out), tail(out)
