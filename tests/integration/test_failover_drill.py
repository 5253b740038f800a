"""The failover drill: refused while anyone still reaches the primary; a primary whose PostgreSQL died
fenced and a replica promoted under a counted writer, then rejoined; a primary nobody can fence refused.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import lab
import psycopg
import pytest
from drills import both_replicas_stream_from, stop_all, writes_and_samples
from harness import Figures, changed_or_failed, inside, recap, said, tail
from lab import LabInventory, app_conninfo, on, rows_on, sql

pytestmark = pytest.mark.in_sequence


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
