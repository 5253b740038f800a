"""The converged lab's cluster and backups, before the drills change them.

Data flows from the primary to both replicas over TLS; only members replicate; applications get in
with verified TLS only (this machine is the lab's application network); WAL reaches the repository,
whose passphrase and keys stay where they belong.
"""

import time
import uuid

import lab
import psycopg
import pytest
import testinfra
from lab import APP_PASSWORD, PREFIX, address, repository_info, sql

PRIMARY = testinfra.get_host(f"podman://{PREFIX}{lab.PRIMARY}")
REPLICAS = [testinfra.get_host(f"podman://{PREFIX}{name}") for name in lab.STANDBYS]
REPO = testinfra.get_host(f"podman://{PREFIX}{lab.REPO}")
RESTORE = testinfra.get_host(f"podman://{PREFIX}{lab.RESTORE}")
MEMBERS = [PRIMARY, *REPLICAS]
LAG = "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)"

pytestmark = pytest.mark.usefixtures("converged_lab")


def name(host) -> str:
    return host.backend.name.removeprefix(PREFIX)


def test_one_primary_two_standbys():
    assert sql(lab.PRIMARY, "SELECT pg_is_in_recovery()") == "f"
    for standby in lab.STANDBYS:
        assert sql(standby, "SELECT pg_is_in_recovery()") == "t"


@pytest.mark.parametrize("member", lab.MEMBERS)
def test_data_checksums_scram_and_tls_are_on(member):
    assert sql(member, "SHOW data_checksums") == "on"
    assert sql(member, "SHOW ssl") == "on"
    assert sql(member, "SHOW password_encryption") == "scram-sha-256"


def test_a_row_written_on_the_primary_reaches_both_replicas():
    marker = uuid.uuid4().hex
    sql(lab.PRIMARY, "CREATE TABLE IF NOT EXISTS verify_rows (marker text PRIMARY KEY)")
    sql(lab.PRIMARY, f"INSERT INTO verify_rows VALUES ('{marker}')")
    for standby in lab.STANDBYS:
        deadline = time.monotonic() + 30
        # The table too may not have been replayed yet: asked for before it is, the count is an error.
        while (
            sql(standby, "SELECT to_regclass('verify_rows') IS NOT NULL") != "t"
            or sql(standby, f"SELECT count(*) FROM verify_rows WHERE marker = '{marker}'") != "1"
        ):
            assert time.monotonic() < deadline, f"{standby} did not receive the row in 30 s"
            time.sleep(0.5)


@pytest.mark.parametrize("replica", REPLICAS, ids=name)
def test_replicas_refuse_writes(replica):
    result = replica.run("runuser -u postgres -- psql -XAtq -c %s", "CREATE TABLE must_fail (id int)")
    assert result.rc != 0
    assert "read-only transaction" in result.stderr


def test_replicas_catch_up_to_zero_lag():
    sql(lab.PRIMARY, "CHECKPOINT")
    deadline = time.monotonic() + 30
    while True:
        lags = sql(lab.PRIMARY, f"SELECT coalesce(max({LAG}), -1) FROM pg_stat_replication")
        if lags == "0":
            break
        assert time.monotonic() < deadline, f"replay lag still {lags} bytes after 30 s"
        time.sleep(0.5)


def test_a_host_outside_the_cluster_cannot_replicate():
    # This machine passes the firewall (the application network) but is no member.
    with pytest.raises(psycopg.OperationalError, match=r"no pg_hba\.conf entry for replication connection"):
        psycopg.connect(
            f"host={address(lab.PRIMARY)} user=replicator dbname=replication replication=true sslmode=require "
            "password=anything connect_timeout=5"
        )


def test_applications_connect_with_verified_tls_and_never_in_clear(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_bytes(PRIMARY.file("/etc/postgresql/15/main/tls/ca.crt").content)
    conninfo = f"host={address(lab.PRIMARY)} user=app dbname=app password={APP_PASSWORD} connect_timeout=5"
    with psycopg.connect(f"{conninfo} sslmode=verify-full sslrootcert={ca}") as connection:
        ssl = connection.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    assert ssl == (True,)
    with pytest.raises(psycopg.OperationalError, match=r"no pg_hba\.conf entry"):
        psycopg.connect(f"{conninfo} sslmode=disable")


def test_pg_stat_statements_is_loaded_and_installed():
    assert "pg_stat_statements" in sql(lab.PRIMARY, "SHOW shared_preload_libraries")
    assert sql(lab.PRIMARY, "SELECT count(*) >= 0 FROM pg_stat_statements") == "t"


@pytest.mark.parametrize("member", MEMBERS, ids=name)
def test_configuration_files_are_managed(member):
    conf = member.file("/etc/postgresql/15/main/postgresql.conf")
    assert conf.contains("Managed by Ansible")
    assert conf.user == "postgres"
    hba = member.file("/etc/postgresql/15/main/pg_hba.conf")
    assert hba.mode == 0o640
    assert not hba.contains(" trust")
    assert member.file("/var/lib/postgresql/.pgpass").mode == 0o600


@pytest.mark.parametrize("member", lab.MEMBERS)
def test_every_member_archives_through_pgbackrest(member):
    assert sql(member, "SHOW archive_mode") == "on"
    assert sql(member, "SHOW archive_command") == "/usr/bin/pgbackrest --stanza=main archive-push %p"
    assert "archive-get" in sql(member, "SHOW restore_command")


def test_the_primary_archives_without_failures():
    switched = sql(lab.PRIMARY, "SELECT pg_walfile_name(pg_switch_wal())")
    lab.repository("check")
    archived, failed = sql(lab.PRIMARY, "SELECT last_archived_wal, failed_count FROM pg_stat_archiver").split("|")
    assert archived >= switched
    assert failed == "0"
    assert repository_info()["archive"][0]["max"] >= switched


def test_only_the_repository_host_holds_the_passphrase():
    conf = REPO.file("/etc/pgbackrest/pgbackrest.conf")
    assert (conf.user, conf.group, conf.mode) == ("root", "pgbackrest", 0o640)
    assert conf.contains("^repo1-cipher-pass=")
    for member in MEMBERS:
        member_conf = member.file("/etc/pgbackrest/pgbackrest.conf")
        assert (member_conf.group, member_conf.mode) == ("postgres", 0o640)
        assert not member_conf.contains("cipher-pass")
        assert member_conf.contains(f"^repo1-host={address(lab.REPO)}$")
    assert not REPO.file("/etc/pgbackrest.conf").exists


def test_the_repository_is_private_to_its_user():
    repository = REPO.file("/var/lib/pgbackrest")
    assert (repository.user, repository.mode) == ("pgbackrest", 0o750)


def test_backups_come_from_the_standby():
    conf = REPO.file("/etc/pgbackrest/pgbackrest.conf").content_string
    assert "backup-standby=y" in conf
    hosts = sorted(line.split("=", 1)[1] for line in conf.splitlines() if line.startswith("pg") and "-host=" in line)
    assert hosts == sorted(address(member) for member in lab.MEMBERS)


def test_each_key_may_only_open_the_remotes_its_peer_needs_from_its_peer():
    repo_keys = [
        line
        for line in REPO.file("/home/pgbackrest/.ssh/authorized_keys").content_string.splitlines()
        if line and not line.startswith("#")
    ]
    assert len(repo_keys) == len(MEMBERS)
    for line in repo_keys:
        assert line.startswith("restrict,from=")
        assert (
            'command="/usr/local/lib/groundwork-pgbackrest-gate --binary /usr/bin/pgbackrest --remote-type repo'
            ' --commands archive-push,archive-get,check,info,restore --stanzas main"'
        ) in line
    # The repository host's key, used for anything but a pgBackRest remote, reaches nothing.
    tried = REPO.run("runuser -u pgbackrest -- ssh -o BatchMode=yes postgres@%s id", address(lab.PRIMARY))
    assert "uid=" not in tried.stdout
    assert "pgbackrest-gate: refused: only pgbackrest may run through this key" in tried.stdout + tried.stderr


def test_scheduled_backups_are_timers_on_the_repository_host():
    for backup_type in ("full", "diff", "incr"):
        timer = REPO.service(f"pgbackrest-main-{backup_type}.timer")
        assert timer.is_enabled
        assert timer.is_running
    service = REPO.file("/etc/systemd/system/pgbackrest-main-incr.service").content_string
    assert "--stanza=main --type=incr backup" in service
    assert not PRIMARY.file("/etc/systemd/system/pgbackrest-main-full.timer").exists


def test_the_restore_target_is_untouched_until_a_restore():
    assert not RESTORE.file("/etc/pgbackrest/pgbackrest.conf").exists
    assert not RESTORE.file("/var/lib/postgresql").exists
