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


def served_by(entry, port, **options):
    """Which member answered a connection to `entry`'s HAProxy on `port`, and whether it is in recovery."""
    settings = {"host": ADDRESS[entry], "port": port, "dbname": "app", "user": "app", "password": APP_PASSWORD}
    settings.setdefault("sslmode", "require")
    settings.update(options)
    with psycopg.connect(**settings, connect_timeout=5) as connection:
        address, recovery = connection.execute("SELECT host(inet_server_addr()), pg_is_in_recovery()").fetchone()
    member = next(name for name, known in ADDRESS.items() if known == address)
    return member, recovery


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
    settings = {"host": FLOATING_ADDRESS, "port": RW, "dbname": "app", "user": "app", "password": APP_PASSWORD}
    with psycopg.connect(**settings, sslmode="require", connect_timeout=5) as connection:
        address, recovery = connection.execute("SELECT host(inet_server_addr()), pg_is_in_recovery()").fetchone()
    assert (address, recovery) == (ADDRESS[leader()], False)
