"""The converged cluster: data flows from the primary to both replicas over TLS, and only members get in."""

import base64
import time
import uuid

import pytest
import testinfra

PRIMARY = testinfra.get_host("podman://gw-pgc1")
REPLICAS = [testinfra.get_host("podman://gw-pgc2"), testinfra.get_host("podman://gw-pgc3")]
OUTSIDER = testinfra.get_host("podman://gw-pgc-outsider")
MEMBERS = [PRIMARY, *REPLICAS]
LAG = "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)"
APP = "PGPASSWORD=molecule-app-not-secret psql -XAtq %s -c"


def sql(host, query, db="postgres"):
    result = host.run("runuser -u postgres -- psql -XAtq -d %s -c %s", db, query)
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


def address(host):
    return host.run("hostname -I").stdout.split()[0]


def test_one_primary_two_standbys():
    assert sql(PRIMARY, "SELECT pg_is_in_recovery()") == "f"
    for replica in REPLICAS:
        assert sql(replica, "SELECT pg_is_in_recovery()") == "t"


@pytest.mark.parametrize("member", MEMBERS, ids=lambda h: h.backend.name)
def test_data_checksums_and_tls_are_on(member):
    assert sql(member, "SHOW data_checksums") == "on"
    assert sql(member, "SHOW ssl") == "on"
    assert sql(member, "SHOW password_encryption") == "scram-sha-256"


def test_a_row_written_on_the_primary_reaches_both_replicas():
    marker = uuid.uuid4().hex
    sql(PRIMARY, "CREATE TABLE IF NOT EXISTS verify_rows (marker text PRIMARY KEY)")
    sql(PRIMARY, f"INSERT INTO verify_rows VALUES ('{marker}')")
    for replica in REPLICAS:
        deadline = time.monotonic() + 30
        while sql(replica, f"SELECT count(*) FROM verify_rows WHERE marker = '{marker}'") != "1":
            assert time.monotonic() < deadline, f"{replica.backend.name} did not receive the row in 30 s"
            time.sleep(0.5)


@pytest.mark.parametrize("replica", REPLICAS, ids=lambda h: h.backend.name)
def test_replicas_refuse_writes(replica):
    result = replica.run("runuser -u postgres -- psql -XAtq -c %s", "CREATE TABLE must_fail (id int)")
    assert result.rc != 0
    assert "read-only transaction" in result.stderr


def test_every_replica_streams_over_tls_through_its_own_active_slot():
    rows = sql(
        PRIMARY,
        "SELECT r.application_name, r.state, s.ssl, sl.active "
        "FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) "
        "JOIN pg_replication_slots sl ON sl.active_pid = r.pid ORDER BY 1",
    ).splitlines()
    assert rows == ["gw_gw_pgc2|streaming|t|t", "gw_gw_pgc3|streaming|t|t"]


def test_replicas_catch_up_to_zero_lag():
    sql(PRIMARY, "CHECKPOINT")
    deadline = time.monotonic() + 30
    while True:
        lags = sql(PRIMARY, f"SELECT coalesce(max({LAG}), -1) FROM pg_stat_replication")
        if lags == "0":
            break
        assert time.monotonic() < deadline, f"replay lag still {lags} bytes after 30 s"
        time.sleep(0.5)


def test_a_host_outside_the_cluster_cannot_replicate():
    result = OUTSIDER.run(
        "PGPASSWORD=molecule-replication-not-secret psql %s -c 'IDENTIFY_SYSTEM'",
        f"host={address(PRIMARY)} user=replicator dbname=replication replication=true sslmode=require",
    )
    assert result.rc != 0
    assert "no pg_hba.conf entry for replication connection" in result.stderr


def test_applications_connect_with_verified_tls_and_never_in_clear():
    ca = base64.b64encode(PRIMARY.file("/etc/postgresql/15/main/tls/ca.crt").content).decode()
    assert OUTSIDER.run("echo %s | base64 -d > /tmp/cluster-ca.crt", ca).rc == 0
    conninfo = f"host={address(PRIMARY)} user=app dbname=app"
    verified = OUTSIDER.run(
        APP + " 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'",
        f"{conninfo} sslmode=verify-full sslrootcert=/tmp/cluster-ca.crt",
    )
    assert verified.rc == 0, verified.stderr
    assert verified.stdout.strip() == "t"
    clear = OUTSIDER.run(APP + " 'SELECT 1'", f"{conninfo} sslmode=disable")
    assert clear.rc != 0
    assert "no pg_hba.conf entry" in clear.stderr


def test_pg_stat_statements_is_loaded_and_installed():
    assert "pg_stat_statements" in sql(PRIMARY, "SHOW shared_preload_libraries")
    assert sql(PRIMARY, "SELECT count(*) >= 0 FROM pg_stat_statements") == "t"


@pytest.mark.parametrize("member", MEMBERS, ids=lambda h: h.backend.name)
def test_configuration_files_are_managed(member):
    conf = member.file("/etc/postgresql/15/main/postgresql.conf")
    assert conf.contains("Managed by Ansible")
    assert conf.user == "postgres"
    hba = member.file("/etc/postgresql/15/main/pg_hba.conf")
    assert hba.mode == 0o640
    assert not hba.contains(" trust")
    assert member.file("/var/lib/postgresql/.pgpass").mode == 0o600
