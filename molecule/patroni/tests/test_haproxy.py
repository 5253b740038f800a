"""HAProxy on every member: the read-write port leads to the leader and the read-only port to the
replicas, from whichever member a client enters; clients that check the server's name pass through it."""

import json
from pathlib import Path

import psycopg
import pytest
import testinfra
import yaml

MEMBERS = ("gw-ha1", "gw-ha2", "gw-ha3")
HOSTS = {name: testinfra.get_host(f"podman://{name}") for name in MEMBERS}
CONFIG = "/etc/patroni/15-main.yml"
ROOT = Path(__file__).resolve().parents[3]
SCENARIO = yaml.safe_load(
    (ROOT / "molecule" / "patroni" / "molecule.yml").read_text().replace("${MOLECULE_PROJECT_DIRECTORY}", str(ROOT))
)
ADDRESS = {platform["name"]: platform["ip"] for platform in SCENARIO["platforms"]}
POSTGRESQL = SCENARIO["provisioner"]["inventory"]["group_vars"]["postgresql"]
APP_PASSWORD = POSTGRESQL["postgresql_users"][0]["password"]
ENDPOINT_NAME = POSTGRESQL["postgresql_tls_extra_names"][0].removeprefix("DNS:")
CA_FILE = SCENARIO["provisioner"]["inventory"]["group_vars"]["all"]["groundwork_tls_ca_dir"] + "/ca.crt"
RW, RO = 5000, 5001


def leader():
    listed = json.loads(HOSTS["gw-ha1"].check_output(f"patronictl -c {CONFIG} list -f json"))
    return next(member["Member"] for member in listed if member["Role"] == "Leader")


STARTED = "SELECT extract(epoch FROM pg_postmaster_start_time())::text"


def members_by_start():
    """Each member by its server's start time. Through PgBouncer the server sees a client on its socket, with
    no address of its own (inet_server_addr() is NULL): the start time tells which member answered."""
    return {HOSTS[name].check_output(f"runuser -u postgres -- psql -XAtc '{STARTED}'"): name for name in MEMBERS}


def app_settings(**options):
    """The app database's connection settings, with `options` over them."""
    return {"dbname": "app", "user": "app", "password": APP_PASSWORD, "connect_timeout": 5, **options}


def served_by(entry, port, **options):
    """Which member answered a connection to `entry`'s HAProxy on `port`, and whether it is in recovery."""
    settings = {**app_settings(host=ADDRESS[entry], port=port, sslmode="require"), **options}
    with psycopg.connect(**settings) as connection:
        started, recovery = connection.execute(f"{STARTED}, pg_is_in_recovery()").fetchone()
    return members_by_start()[started], recovery


@pytest.mark.parametrize("entry", MEMBERS)
def test_the_read_write_port_of_every_member_leads_to_the_leader(entry):
    assert served_by(entry, RW) == (leader(), False)


@pytest.mark.parametrize("entry", MEMBERS)
def test_the_read_only_port_of_every_member_leads_to_the_replicas_in_turn(entry):
    replicas = set(MEMBERS) - {leader()}
    answers = {served_by(entry, RO) for _ in range(4)}
    assert answers == {(replica, True) for replica in replicas}


def test_a_client_verifying_the_servers_name_passes_through_haproxy():
    # The name is in every member's certificate (postgresql_tls_extra_names): whichever member leads,
    # verify-full holds for a client that knows the cluster by that name.
    member, recovery = served_by(
        "gw-ha2", RW, host=ENDPOINT_NAME, hostaddr=ADDRESS["gw-ha2"], sslmode="verify-full", sslrootcert=CA_FILE
    )
    assert (member, recovery) == (leader(), False)


@pytest.mark.parametrize("name", MEMBERS)
def test_haproxy_marks_up_exactly_the_leader_for_writes_and_the_replicas_for_reads(name):
    # HAProxy's own view (its admin socket): the checks of Patroni's REST API passed over verified TLS.
    stats = HOSTS[name].check_output(
        "python3 -c %s",
        "import socket; s = socket.socket(socket.AF_UNIX); s.connect('/run/haproxy/admin.sock');"
        "s.sendall(b'show stat\\n'); print(s.makefile().read())",
    )
    # CSV: proxy, server, then counters; the 18th field is the status.
    rows = [line.split(",") for line in stats.splitlines() if line and not line.startswith("#")]
    up = {(row[0], row[1]) for row in rows if row[1] not in ("FRONTEND", "BACKEND") and row[17] == "UP"}
    lead = leader()
    assert up == {("main_rw", lead)} | {("main_ro", replica) for replica in set(MEMBERS) - {lead}}
    assert HOSTS[name].file("/etc/haproxy/tls/ca.crt").exists


@pytest.mark.parametrize("member", MEMBERS)
def test_the_checks_leave_patronis_journal_quiet(member):
    # Three HAProxies ask every member twice a second. A check that closes before Patroni has written
    # its answer logs a traceback each time (a GET's body); OPTIONS is answered by the status line alone.
    journal = HOSTS[member].check_output("journalctl -u 'patroni@*' --since -30s --no-pager")
    assert "Traceback" not in journal, journal[-3000:]


FLOATING_ADDRESS = POSTGRESQL["groundwork_pg_vip_address"]


def test_the_floating_address_is_on_the_leader_alone_and_leads_to_it():
    holders = [name for name, host in HOSTS.items() if f" {FLOATING_ADDRESS}/" in host.check_output("ip -4 -o a")]
    assert holders == [leader()]
    with psycopg.connect(**app_settings(host=FLOATING_ADDRESS, port=RW, sslmode="require")) as connection:
        started, recovery = connection.execute(f"{STARTED}, pg_is_in_recovery()").fetchone()
    assert (members_by_start()[started], recovery) == (leader(), False)


PGBOUNCER_PORT = 6432


@pytest.mark.parametrize("port", [RW, RO])
def test_haproxy_leads_through_pgbouncer_which_pools_to_its_own_server_over_the_socket(port):
    with psycopg.connect(**app_settings(host=FLOATING_ADDRESS, port=port, sslmode="require")) as connection:
        started, server_address, tls = connection.execute(
            f"{STARTED}, inet_server_addr(), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone()
        client_tls = connection.pgconn.ssl_in_use
    # The server sees PgBouncer on its socket (no address, no TLS); the client had TLS, which PgBouncer ended.
    assert (server_address, tls, client_tls) == (None, False, True)
    member = members_by_start()[started]
    pools = HOSTS[member].check_output(
        f"runuser -u postgres -- psql -XAt -h /var/run/postgresql -p {PGBOUNCER_PORT} -d pgbouncer -c 'SHOW POOLS'"
    )
    assert any(line.startswith("app|app|") for line in pools.splitlines()), (member, pools)


def test_pgbouncer_serves_the_members_certificate_and_names():
    # The member's own certificate and key (postgresql_tls_extra_names among its names): verify-full holds.
    lead = leader()
    options = {"host": ENDPOINT_NAME, "hostaddr": ADDRESS[lead], "sslmode": "verify-full", "sslrootcert": CA_FILE}
    with psycopg.connect(**app_settings(port=PGBOUNCER_PORT, **options)) as connection:
        assert connection.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        ({"sslmode": "disable"}, "SSL required"),
        ({"sslmode": "require", "password": "not-the-password"}, "SASL authentication failed"),
        ({"sslmode": "require", "user": "postgres"}, "login rejected"),
        ({"sslmode": "require", "dbname": "postgres"}, "login rejected"),
    ],
)
def test_pgbouncer_lets_in_only_whom_postgresql_lets_in(options, refusal):
    # Its rules are the members' postgresql_hba_entries (app to app only, with TLS); never the superuser.
    with pytest.raises(psycopg.OperationalError, match=refusal):
        psycopg.connect(**app_settings(host=ADDRESS[leader()], port=PGBOUNCER_PORT, **options)).close()
