"""The backup drill: schedules refused or taken away, incrementals under pgbench, a standby's backup
restored, the backup module's choice, verify_backup, and a corrupted repository file caught.
"""

from __future__ import annotations

import json
import subprocess

import lab
import pytest
from harness import Figures, changed_or_failed, project_env, said, tail
from lab import LabInventory, sql

pytestmark = pytest.mark.in_sequence


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
