"""The converged backup set-up: WAL reaches the repository, a full backup exists, only pgbackrest gets in."""

import json

import pytest
import testinfra

PRIMARY = testinfra.get_host("podman://gw-pgc1")
STANDBYS = [testinfra.get_host("podman://gw-pgc2"), testinfra.get_host("podman://gw-pgc3")]
REPO = testinfra.get_host("podman://gw-pgc-repo")
RESTORE = testinfra.get_host("podman://gw-pgc-restore")
MEMBERS = [PRIMARY, *STANDBYS]


def sql(host, query):
    result = host.run("runuser -u postgres -- psql -XAtq -c %s", query)
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


def address(host):
    return host.run("hostname -I").stdout.split()[0]


def repository_info():
    result = REPO.run("runuser -u pgbackrest -- pgbackrest --stanza=main info --output=json")
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)[0]


def test_the_stanza_is_ok_encrypted_and_has_a_full_backup():
    info = repository_info()
    assert info["status"]["message"] == "ok"
    assert info["cipher"] == "aes-256-cbc"
    assert [b["type"] for b in info["backup"]][:1] == ["full"]


@pytest.mark.parametrize("member", MEMBERS, ids=lambda h: h.backend.name)
def test_every_member_archives_through_pgbackrest(member):
    assert sql(member, "SHOW archive_mode") == "on"
    assert sql(member, "SHOW archive_command") == "/usr/bin/pgbackrest --stanza=main archive-push %p"
    assert "archive-get" in sql(member, "SHOW restore_command")


def test_the_primary_archives_without_failures():
    switched = sql(PRIMARY, "SELECT pg_walfile_name(pg_switch_wal())")
    check = REPO.run("runuser -u pgbackrest -- pgbackrest --stanza=main check")
    assert check.rc == 0, check.stderr
    archived, failed = sql(PRIMARY, "SELECT last_archived_wal, failed_count FROM pg_stat_archiver").split("|")
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
        assert member_conf.contains(f"^repo1-host={address(REPO)}$")


def test_the_repository_is_private_to_its_user():
    repository = REPO.file("/var/lib/pgbackrest")
    assert (repository.user, repository.mode) == ("pgbackrest", 0o750)


def test_backups_come_from_the_standby():
    conf = REPO.file("/etc/pgbackrest/pgbackrest.conf").content_string
    assert "backup-standby=y" in conf
    hosts = sorted(line.split("=", 1)[1] for line in conf.splitlines() if line.startswith("pg") and "-host=" in line)
    assert hosts == sorted(address(member) for member in MEMBERS)


def test_each_key_may_only_run_pgbackrest_from_its_peer():
    repo_keys = REPO.file("/home/pgbackrest/.ssh/authorized_keys").content_string.splitlines()
    assert len(repo_keys) == len(MEMBERS)
    for line in repo_keys:
        assert line.startswith("restrict,from=")
        assert 'command="/usr/bin/pgbackrest ${SSH_ORIGINAL_COMMAND#* }"' in line
    # The repository host's key, used for anything but pgbackrest, still only reaches pgbackrest.
    tried = REPO.run("runuser -u pgbackrest -- ssh -o BatchMode=yes postgres@%s id", address(PRIMARY))
    assert "uid=" not in tried.stdout
    assert "invalid command 'id'" in tried.stdout + tried.stderr


def test_scheduled_backups_are_timers_on_the_repository_host():
    for backup_type in ("full", "diff", "incr"):
        timer = REPO.service(f"pgbackrest-main-{backup_type}.timer")
        assert timer.is_enabled
        assert timer.is_running
    full_timer = REPO.file("/etc/systemd/system/pgbackrest-main-full.timer").content_string
    assert "OnCalendar=2099-01-04 01:00:00" in full_timer
    incr_timer = REPO.file("/etc/systemd/system/pgbackrest-main-incr.timer").content_string
    assert "OnCalendar=2099-01-05 02:30:00" in incr_timer  # given as a YAML timestamp
    assert not PRIMARY.file("/etc/systemd/system/pgbackrest-main-full.timer").exists


def test_the_restore_target_is_untouched_until_a_restore():
    assert not RESTORE.file("/etc/pgbackrest/pgbackrest.conf").exists
    assert not RESTORE.file("/var/lib/postgresql").exists
