"""Patroni on the three members: one leader, two replicas streaming over TLS, Debian's unit out of the
way, the role's settings in force, the REST API changing nothing for a client without a certificate,
and WAL archived to the repository host from the first run."""

import json

import pytest
import testinfra

MEMBERS = ("gw-ha1", "gw-ha2", "gw-ha3")
HOSTS = {name: testinfra.get_host(f"podman://{name}") for name in MEMBERS}
CONFIG = "/etc/patroni/15-main.yml"
REPOSITORY = testinfra.get_host("podman://gw-ha-repo")


def psql(name, query):
    return HOSTS[name].check_output("runuser -u postgres -- psql -XAtq -c %s", query)


def members():
    return {m["Member"]: m for m in json.loads(HOSTS["gw-ha1"].check_output(f"patronictl -c {CONFIG} list -f json"))}


def leader():
    return next(name for name, member in members().items() if member["Role"] == "Leader")


def test_one_leader_and_two_replicas_on_one_timeline():
    listed = members()
    assert sorted(listed) == list(MEMBERS)
    assert sorted(member["Role"] for member in listed.values()) == ["Leader", "Replica", "Sync Standby"]
    assert len({member["TL"] for member in listed.values()}) == 1


def test_the_replicas_stream_from_the_leader_over_tls():
    rows = psql(leader(), "SELECT count(*) FROM pg_stat_replication JOIN pg_stat_ssl USING (pid) WHERE ssl")
    assert rows == "2"


@pytest.mark.parametrize("name", MEMBERS)
def test_patroni_runs_the_server_and_debians_unit_is_masked(name):
    host = HOSTS[name]
    assert host.service("patroni@15-main").is_running
    assert host.service("patroni@15-main").is_enabled
    assert host.run("systemctl is-enabled postgresql@15-main").stdout.strip() == "masked"
    config = host.file(CONFIG)
    assert (config.user, config.group, config.mode) == ("postgres", "postgres", 0o600)


@pytest.mark.parametrize("name", MEMBERS)
def test_the_roles_settings_are_in_force(name):
    # The role's file, included by Patroni's postgresql.conf; checksums from the role's initdb.
    assert psql(name, "SHOW data_checksums") == "on"
    assert psql(name, "SHOW password_encryption") == "scram-sha-256"
    assert psql(name, "SHOW hba_file") == "/etc/postgresql/15/main/pg_hba.conf"
    assert psql(name, "SHOW ssl") == "on"


def test_the_rest_api_changes_nothing_without_a_client_certificate():
    # A restart asked with no certificate is refused; the same with the member's certificate is not
    # tried here (it would restart the server).
    host = HOSTS["gw-ha2"]
    address = host.interface("eth0").addresses[0]
    refused = host.run(
        'python3 -c "import ssl, urllib.request, urllib.error\n'
        "c = ssl.create_default_context(cafile='/etc/patroni/tls/ca.crt')\n"
        "r = urllib.request.Request('https://%s:8008/restart', data=b'{}', method='POST')\n"
        "try:\n urllib.request.urlopen(r, context=c); print(200)\n"
        'except urllib.error.HTTPError as e: print(e.code)"',
        address,
    )
    assert refused.stdout.strip() == "403", refused.stdout + refused.stderr


def test_the_repository_holds_the_first_full_backup_and_the_leaders_archive_check_passes():
    info = json.loads(REPOSITORY.check_output("runuser -u pgbackrest -- pgbackrest --stanza=main --output=json info"))
    assert info[0]["status"]["code"] == 0, info[0]["status"]
    assert info[0]["backup"][0]["type"] == "full"
    check = HOSTS[leader()].run("runuser -u postgres -- pgbackrest --stanza=main check")
    assert check.rc == 0, check.stderr
