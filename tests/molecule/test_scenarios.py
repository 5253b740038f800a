"""Every Molecule scenario as pytest tests: converge, idempotence, check mode, verify.

Each scenario's steps share its instances (class scope); destroy runs whatever happens.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import backup_drill as bd
import psycopg
import pytest
import yaml
from harness import ROOT, Figures, project_env, recap, run, tail, warnings_in
from pg_drill import MEMBERS, ClusterInventory, Writer, app_conninfo, container_address, rows_on

SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
# Figures a scenario's verify must print (the issue asks for Lynis's index before and after).
EXPECTED_FIGURES = {"hardening": "Lynis hardening index"}


def molecule(scenario: str, action: str) -> tuple[int, str]:
    result = run(["molecule", action, "-s", scenario], env=project_env(), timeout=2400)
    return result.returncode, result.stdout + result.stderr


def make_fixed_address_network(scenario: str) -> None:
    """The network of a scenario whose instances have fixed addresses (`ip:`), made with their /24.

    Molecule's podman driver creates a missing network without a subnet (its schema has no key
    for one), and podman would then give it a subnet the fixed addresses are not in.
    """
    platforms = yaml.safe_load((ROOT / "molecule" / scenario / "molecule.yml").read_text())["platforms"]
    fixed = [p for p in platforms if "ip" in p]
    if not fixed:
        return
    subnet = ".".join(fixed[0]["ip"].split(".")[:3]) + ".0/24"
    made = run(["podman", "network", "create", "--subnet", subnet, fixed[0]["network"]], env=project_env())
    assert made.returncode == 0, made.stdout + made.stderr


@pytest.fixture(scope="module", params=SCENARIOS)
def converged(request: pytest.FixtureRequest) -> Iterator[str]:
    scenario: str = request.param
    # A killed earlier run may have left instances behind: start from nothing.
    molecule(scenario, "destroy")
    try:
        make_fixed_address_network(scenario)
        for action in ("create", "prepare", "converge"):
            started = time.monotonic()
            rc, out = molecule(scenario, action)
            assert rc == 0, f"molecule {action} -s {scenario} failed:\n{tail(out)}"
        CONVERGE_OUTPUT[scenario] = out
        CONVERGE_SECONDS[scenario] = time.monotonic() - started
        yield scenario
    finally:
        molecule(scenario, "destroy")


CONVERGE_OUTPUT: dict[str, str] = {}
CONVERGE_SECONDS: dict[str, float] = {}


def test_first_converge_changes_every_host(converged: str, figures: Figures) -> None:
    figures.append(f"{converged}: first converge {CONVERGE_SECONDS[converged]:.0f} s")
    counters = recap(CONVERGE_OUTPUT[converged])
    assert counters, "no PLAY RECAP in converge output"
    unchanged = [host for host, c in counters.items() if c["changed"] == 0]
    assert not unchanged, f"a first converge left these hosts untouched: {unchanged}"
    assert warnings_in(CONVERGE_OUTPUT[converged]) == []


def test_idempotence(converged: str, figures: Figures) -> None:
    started = time.monotonic()
    rc, out = molecule(converged, "idempotence")
    assert rc == 0, f"second converge changed something:\n{tail(out)}"
    assert warnings_in(out) == []
    figures.append(f"{converged}: idempotent second converge {time.monotonic() - started:.0f} s")


def test_check_mode_on_converged_hosts_reports_no_change(converged: str) -> None:
    rc, out = molecule(converged, "check")
    assert rc == 0, tail(out)
    counters = recap(out)
    assert counters, f"no PLAY RECAP in check output:\n{tail(out)}"
    changed = {host: c["changed"] for host, c in counters.items() if c["changed"] or c["failed"]}
    assert not changed, f"check mode predicts changes on a converged host: {changed}\n{tail(out)}"


def test_verify(converged: str, figures: Figures) -> None:
    rc, out = molecule(converged, "verify")
    assert rc == 0, tail(out, 120)
    assert " passed" in out
    # A scenario's checks report what they measured after "FIGURE " (Lynis's score, say); pytest
    # may print it on the line of the test's progress dot.
    figures.extend(line.split("FIGURE ", 1)[1] for line in out.splitlines() if "FIGURE " in line)
    expected = EXPECTED_FIGURES.get(converged)
    if expected:
        assert expected in " ".join(figures.lines()), f"{converged} must report {expected}"


# The cluster drill, on the cluster scenario's instances once they have passed the steps above.
# The inventory is the source of truth: after each switchover or failover the drill edits it, as
# the playbooks tell the operator to. It ends with the primary it started with, so the backup drill
# (below, on the same instances) then finds the cluster as the scenario's inventory describes it.
DRILL = pytest.mark.parametrize("converged", ["cluster"], indirect=True)


@pytest.fixture(scope="module")
def cluster(converged: str, tmp_path_factory: pytest.TempPathFactory) -> ClusterInventory:
    inventory = ClusterInventory(tmp_path_factory.mktemp("drill"))
    inventory.write(primary="gw-pgc1")
    return inventory


def addresses() -> list[str]:
    return [container_address(member) for member in MEMBERS]


def said(out: str) -> str:
    """The output with its line folding undone, to look for a message in it."""
    return " ".join(out.split())


def unchanged(out: str) -> dict[str, int]:
    return {host: c["changed"] for host, c in recap(out).items() if c["changed"] or c["failed"]}


@DRILL
def test_switchover_under_writes_loses_no_committed_transaction(
    converged: str, cluster: ClusterInventory, figures: Figures
) -> None:
    conninfo = app_conninfo(addresses())
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS drill (id bigint PRIMARY KEY)")
        connection.execute("TRUNCATE drill")
    writer = Writer(conninfo)
    writer.start()
    time.sleep(3)
    rc, out = cluster.playbook("pg_switchover", "-e", "pg_switchover_target=gw-pgc2")
    time.sleep(3)
    writer.stop()
    assert rc == 0, tail(out)
    assert "move gw-pgc2 into postgresql_primary and gw-pgc1 into postgresql_replica" in said(out)
    present = rows_on(conninfo)
    acknowledged = set(writer.acknowledged)
    figures.append(
        f"switchover: {len(acknowledged)} commits acknowledged, {len(present)} rows present, "
        f"{len(writer.in_doubt)} in doubt, longest write gap {writer.longest_gap():.2f} s"
    )
    assert acknowledged - present == set(), "acknowledged commits are missing after the switchover"
    assert present - acknowledged <= writer.in_doubt, "rows nobody wrote appeared"
    assert len(present - writer.in_doubt) == len(acknowledged - writer.in_doubt)


@DRILL
def test_stale_inventory_is_refused_before_any_change(converged: str, cluster: ClusterInventory) -> None:
    rc, out = cluster.playbook("postgresql")
    assert rc != 0
    assert "The inventory makes gw-pgc1 the primary of cluster main, but it runs as a standby" in said(out)
    assert unchanged(out) == {"gw-pgc1": 0}


@DRILL
def test_inventory_edited_after_switchover_matches_the_cluster(converged: str, cluster: ClusterInventory) -> None:
    cluster.write(primary="gw-pgc2")
    rc, out = cluster.playbook("postgresql")
    assert rc == 0, tail(out)
    assert unchanged(out) == {}, tail(out)


@DRILL
def test_failover_then_rejoin_heals_the_cluster(converged: str, cluster: ClusterInventory) -> None:
    conninfo = app_conninfo(addresses())
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("INSERT INTO drill SELECT coalesce(max(id), 0) + 1 FROM drill")
        expected = {row[0] for row in connection.execute("SELECT id FROM drill")}
    # Wait until both replicas have everything, so that failing over loses nothing either.
    wait = ["-m", "groundwork.infra.pg_replication_info", "-a", "wait=true min_replicas=2 max_lag_bytes=0"]
    caught_up = run(["ansible", "-i", str(cluster.path), "gw-pgc2", "-b", "--become-user", "postgres", *wait])
    assert caught_up.returncode == 0, tail(caught_up.stdout)
    subprocess.run(["podman", "stop", "gw-pgc2"], check=True, capture_output=True, env=project_env())

    rc, out = cluster.playbook("pg_failover")
    assert rc == 0, tail(out)
    assert "Failover done: gw-pgc1" in said(out), tail(out)
    assert rows_on(app_conninfo([container_address("gw-pgc1")])) == expected

    # The old primary comes back (as a primary of its own, the way systemd starts it) and rejoins.
    subprocess.run(["podman", "start", "gw-pgc2"], check=True, capture_output=True, env=project_env())
    cluster.write(primary="gw-pgc1")
    rc, out = cluster.playbook("pg_rejoin", "-e", "pg_rejoin_host=gw-pgc2")
    assert rc == 0, tail(out)
    assert "gw-pgc2 streams from gw-pgc1 again, after pg_rewind" in said(out), tail(out)

    with psycopg.connect(app_conninfo(addresses()), autocommit=True) as connection:
        connection.execute("INSERT INTO drill SELECT max(id) + 1 FROM drill")
    rc, out = cluster.playbook("postgresql")
    assert rc == 0, tail(out)
    assert unchanged(out) == {}, tail(out)
    # Whole again: the scenario's own checks pass on the healed cluster.
    rc, out = molecule(converged, "verify")
    assert rc == 0, tail(out, 120)


# The backup drill, on the cluster scenario's instances once the cluster drill has healed them.
BACKUP = pytest.mark.parametrize("converged", ["cluster"], indirect=True)
LEDGER = "SELECT count(*), md5(string_agg(id || note, ',' ORDER BY id)) FROM ledger"


@pytest.fixture(scope="module")
def backups(converged: str, tmp_path_factory: pytest.TempPathFactory) -> bd.ScenarioInventory:
    return bd.ScenarioInventory(tmp_path_factory.mktemp("backups"))


@BACKUP
def test_point_in_time_restore_holds_exactly_the_rows_of_that_time(
    converged: str, backups: bd.ScenarioInventory, figures: Figures
) -> None:
    bd.sql(bd.PRIMARY, "CREATE TABLE ledger (id bigint PRIMARY KEY, note text)")
    bd.sql(bd.PRIMARY, "INSERT INTO ledger SELECT g, md5(g::text) FROM generate_series(1, 1000) g")
    rc, out = backups.playbook("backup_now", "-e", "pgbackrest_backup_type=full")
    assert rc == 0, tail(out)
    assert "main: took " in said(out)
    bd.sql(bd.PRIMARY, "INSERT INTO ledger SELECT g, md5(g::text) FROM generate_series(1001, 2000) g")
    time.sleep(1)
    target_time = bd.sql(bd.PRIMARY, "SELECT now()")
    at_target = bd.sql(bd.PRIMARY, LEDGER)
    time.sleep(1)
    bd.sql(bd.PRIMARY, "INSERT INTO ledger SELECT g, md5(g::text) FROM generate_series(2001, 3000) g")
    bd.repository("check")  # the WAL past the target is archived

    request = {
        "pgbackrest_restore_host": bd.RESTORE,
        "pgbackrest_restore_target_type": "time",
        "pgbackrest_restore_target": target_time,
    }
    rc, out = backups.playbook("restore", "-e", json.dumps(request))
    assert rc == 0, tail(out)
    figures.append(
        f"point-in-time restore to {target_time}: ledger {at_target} on the primary then, "
        f"{bd.sql(bd.RESTORE, LEDGER)} restored"
    )
    assert bd.sql(bd.RESTORE, LEDGER) == at_target
    assert bd.sql(bd.RESTORE, "SELECT min(id), max(id) FROM ledger") == "1|2000"
    assert bd.sql(bd.RESTORE, "SELECT pg_is_in_recovery(), current_setting('archive_mode')") == "f|off"


@BACKUP
def test_restore_over_the_running_primary_is_refused_and_changes_nothing(
    converged: str, backups: bd.ScenarioInventory
) -> None:
    before = bd.sql(bd.PRIMARY, LEDGER)
    rc, out = backups.playbook("restore", "-e", f"pgbackrest_restore_host={bd.PRIMARY}")
    assert rc != 0
    assert f"{bd.PRIMARY} holds live PostgreSQL data (/var/lib/postgresql/15/main" in said(out), tail(out)
    assert "the primary of cluster main). A restore there would replace it, so nothing was changed." in said(out)
    assert unchanged(out) == {bd.PRIMARY: 0}, tail(out)
    assert bd.sql(bd.PRIMARY, "SELECT pg_is_in_recovery()") == "f"
    assert bd.sql(bd.PRIMARY, LEDGER) == before


@BACKUP
def test_a_schedule_systemd_cannot_read_is_refused_before_any_change(
    converged: str, backups: bd.ScenarioInventory
) -> None:
    timer = "/etc/systemd/system/pgbackrest-main-full.timer"
    before = bd.on(bd.REPO, "cat", timer)
    request = {"pgbackrest_schedules": {"full": "every other tuesday", "diff": "*-*-* 01:00:00", "incr": ""}}
    rc, out = backups.playbook("backup", "-e", json.dumps(request))
    assert rc != 0
    assert "systemd cannot read the schedule of full (see `man systemd.time`" in said(out), tail(out)
    assert unchanged(out) == {bd.REPO: 0}, tail(out)
    assert bd.on(bd.REPO, "cat", timer) == before


@BACKUP
def test_a_schedule_taken_away_stops_its_timer_before_removing_it(
    converged: str, backups: bd.ScenarioInventory
) -> None:
    # The fault: the role looked for the timer's file on the controller (Jinja's `is file`), never
    # found it, and so removed the file of a timer still running and enabled at boot.
    timer = "pgbackrest-main-incr.timer"

    def active() -> str:
        return bd.on(bd.REPO, "systemctl", "show", "--property=ActiveState", "--value", timer)

    def started_at_boot() -> list[str]:
        return bd.on(bd.REPO, "ls", "/etc/systemd/system/timers.target.wants").split()

    assert active() == "active"
    assert timer in started_at_boot()
    request = {"pgbackrest_schedules": {"full": "2099-01-04 01:00:00", "diff": "2099-01-05 01:00:00", "incr": ""}}
    rc, out = backups.playbook("backup", "-e", json.dumps(request))
    assert rc == 0, tail(out)
    assert active() == "inactive"
    assert timer not in started_at_boot()
    assert {"pgbackrest-main-full.timer", "pgbackrest-main-diff.timer"} <= set(started_at_boot())
    bd.on(bd.REPO, "test", "!", "-e", f"/etc/systemd/system/{timer}")


@BACKUP
def test_incremental_backups_while_pgbench_writes(
    converged: str, backups: bd.ScenarioInventory, figures: Figures
) -> None:
    bd.on(bd.PRIMARY, "pgbench", "-i", "-q", "-s", "10", "postgres", user="postgres")
    bench = subprocess.Popen(
        [
            "podman",
            "exec",
            bd.PRIMARY,
            "runuser",
            "-u",
            "postgres",
            "--",
            "pgbench",
            "-c",
            "4",
            "-j",
            "2",
            "-T",
            "60",
            "postgres",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=project_env(),
    )
    lag = bd.ArchiveLag()
    lag.start()
    taken = []
    for _ in range(2):
        rc, out = backups.playbook("backup_now", "-e", "pgbackrest_backup_type=incr")
        assert rc == 0, tail(out)
        taken.append(bd.repository_info()["backup"][-1])
    bench_out, _ = bench.communicate(timeout=300)
    lag.stop()
    assert bench.returncode == 0, bench_out
    assert [b["type"] for b in taken] == ["incr", "incr"]
    assert taken[1]["prior"] == taken[0]["label"]
    tps = next((line for line in bench_out.splitlines() if line.startswith("tps")), "tps ?")
    figures.append(
        f"incrementals under pgbench ({tps.split('(')[0].strip()}): "
        + ", ".join(f"{b['label']} {b['timestamp']['stop'] - b['timestamp']['start']} s" for b in taken)
        + f"; WAL archive lag over {len(lag.samples)} samples: max {max(lag.samples) / 2**20:.1f} MiB, "
        f"mean {sum(lag.samples) / len(lag.samples) / 2**20:.1f} MiB"
    )
    # Archiving kept up: once writes stop, everything written is archived, without a failure.
    bd.repository("check")
    assert bd.sql(bd.PRIMARY, "SELECT failed_count FROM pg_stat_archiver") == "0"


@BACKUP
def test_a_backup_taken_from_the_standby_restores(converged: str, backups: bd.ScenarioInventory) -> None:
    sources = bd.backup_log_sources()
    from_standbys = sum(sources.get(bd.address(standby), 0) for standby in bd.STANDBYS)
    assert from_standbys > sources.get(bd.address(bd.PRIMARY), 0), f"files copied per host: {sources}"
    label = bd.repository_info()["backup"][-1]["label"]
    accounts = bd.sql(bd.PRIMARY, "SELECT count(*) FROM pgbench_accounts")
    request = {
        "pgbackrest_restore_host": bd.RESTORE,
        "pgbackrest_restore_set": label,
        "pgbackrest_restore_target_type": "immediate",
        "pgbackrest_restore_overwrite": True,
    }
    rc, out = backups.playbook("restore", "-e", json.dumps(request))
    assert rc == 0, tail(out)
    assert f"from backup {label} on {bd.RESTORE}" in said(out)
    assert "The data it replaced is kept in /var/lib/postgresql/15/main.before-restore-" in said(out)
    assert bd.sql(bd.RESTORE, "SELECT count(*) FROM pgbench_accounts") == accounts
    assert bd.sql(bd.RESTORE, "SELECT count(*) FROM ledger") == "3000"
    kept = bd.on(bd.RESTORE, "ls", "/var/lib/postgresql/15").split()
    assert any(name.startswith("main.before-restore-") for name in kept), kept


@BACKUP
def test_backup_module_backs_up_only_when_needed(converged: str, backups: bd.ScenarioInventory) -> None:
    count = len(bd.repository_info()["backup"])
    rc, result = backups.module(bd.REPO, "groundwork.infra.pgbackrest_backup", "stanza=main type=full newer_than=1d")
    assert (rc, result["changed"], result["ran"]) == (0, False, False), result
    assert result["backup"]["type"] == "full"
    rc, result = backups.module(
        bd.REPO, "groundwork.infra.pgbackrest_backup", "stanza=main type=incr newer_than=1s", "--check"
    )
    assert (rc, result["changed"], result["ran"]) == (0, True, True), result
    rc, result = backups.module(bd.REPO, "groundwork.infra.pgbackrest_info", "stanza=main")
    assert rc == 0
    assert result["stanza"]["ok"] is True
    assert len(result["stanza"]["backups"]) == count, "check mode took a backup"
    assert result["stanza"]["newest_backup_age"] < 3600


@BACKUP
def test_verify_backup_proves_the_newest_backup(converged: str, backups: bd.ScenarioInventory) -> None:
    request = {"pgbackrest_verify_tables": ["ledger", "pgbench_accounts"]}
    rc, out = backups.playbook("verify_backup", "-e", json.dumps(request))
    assert rc == 0, tail(out)
    assert "restores, and the restored data matches the primary" in said(out)
    assert "pg_amcheck: no corruption found" in said(out)


@BACKUP
def test_a_corrupted_repository_file_is_caught(converged: str, backups: bd.ScenarioInventory) -> None:
    label = bd.repository_info()["backup"][-1]["label"]
    backup_dir = f"/var/lib/pgbackrest/backup/main/{label}/pg_data"
    victim = bd.on(bd.REPO, "sh", "-c", f"find {backup_dir} -type f -printf '%s %p\\n' | sort -n | tail -1").split()[1]
    bd.on(bd.REPO, "sh", "-c", f"printf 'corrupted' | dd of={victim} bs=1 seek=100 conv=notrunc status=none")
    verified = bd.repository("--log-level-console=info", "verify")
    assert f"backup: {label}, status: invalid" in verified, verified
    rc, out = backups.playbook("verify_backup")
    assert rc != 0
    assert f"Backup {label} of stanza main FAILED verification" in said(out), tail(out)
    # The scratch restore fails on the damaged file too (a checksum mismatch or a zstd format error,
    # depending on where the bytes fell), and the report says so.
    assert "the scratch server failed at Restore up to the restore point" in said(out), tail(out)


# Without a repository host, on S3: the primary takes the backup and runs the scratch server itself.
S3 = pytest.mark.parametrize("converged", ["pgbackrest_s3"], indirect=True)


@S3
def test_backup_now_and_verify_backup_without_a_repository_host(converged: str, tmp_path: Path) -> None:
    inventory = bd.ScenarioInventory(tmp_path, ROOT / "molecule" / "pgbackrest_s3" / "molecule.yml")
    rc, out = inventory.playbook("backup_now", "-e", "pgbackrest_backup_type=diff")
    assert rc == 0, tail(out)
    assert "main: took " in said(out)
    assert "(diff, " in said(out)
    bd.sql("gw-pgs3", "CREATE TABLE s3_ledger AS SELECT g AS id FROM generate_series(1, 5000) g")
    rc, out = inventory.playbook("verify_backup", "-e", json.dumps({"pgbackrest_verify_tables": ["s3_ledger"]}))
    assert rc == 0, tail(out)
    assert "restored on gw-pgs3 up to restore point" in said(out)
    assert "restores, and the restored data matches the primary" in said(out)
    assert "tables (name|rows|md5), restored: s3_ledger|5000|" in said(out)


def test_scenario_dirs_exist() -> None:
    assert SCENARIOS, "no Molecule scenario found"
    for name in SCENARIOS:
        assert Path(ROOT / "molecule" / name / "converge.yml").is_file()
        # `molecule check` must run on the converged instances, not rebuild them (its default sequence).
        config = yaml.safe_load((ROOT / "molecule" / name / "molecule.yml").read_text())
        assert config["scenario"]["check_sequence"] == ["check"], name
