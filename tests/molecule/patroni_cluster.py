"""The Patroni scenario's cluster as its drills see it: members, their fixed addresses, who leads.

Patroni's REST API is read from the controller over TLS, with the scenario's cluster CA; reads need
no client certificate.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request

import psycopg
import yaml
from counted_writes import Writer
from harness import ROOT, holds_address, inside, on, wait_for

SCENARIO = ROOT / "molecule" / "patroni" / "molecule.yml"
CONFIG = yaml.safe_load(SCENARIO.read_text().replace("${MOLECULE_PROJECT_DIRECTORY}", str(ROOT)))
ADDRESS = {platform["name"]: platform["ip"] for platform in CONFIG["platforms"]}
MEMBERS = tuple(sorted(p["name"] for p in CONFIG["platforms"] if "postgresql" in p["groups"]))
REPOSITORY = next(p["name"] for p in CONFIG["platforms"] if "backup_repository" in p["groups"])
STANZA = "main"  # groundwork_pg_cluster's default
APP_PASSWORD = CONFIG["provisioner"]["inventory"]["group_vars"]["postgresql"]["postgresql_users"][0]["password"]
CA_FILE = CONFIG["provisioner"]["inventory"]["group_vars"]["all"]["groundwork_tls_ca_dir"] + "/ca.crt"
REST_PORT = 8008


def app_conninfo(hosts: list[str] | tuple[str, ...]) -> str:
    """The app database on whichever of the hosts takes writes (libpq's read-write routing)."""
    return (
        f"host={','.join(ADDRESS[h] for h in hosts)} port=5432 dbname=app user=app password={APP_PASSWORD} "
        "sslmode=require target_session_attrs=read-write connect_timeout=2"
    )


READ_WRITE_PORT = 5000  # HAProxy on every member (groundwork_pg_rw_port)
# keepalived holds it on the leader (groundwork_pg_vip_address).
FLOATING_ADDRESS = CONFIG["provisioner"]["inventory"]["group_vars"]["postgresql"]["groundwork_pg_vip_address"]


def endpoint_conninfo(host: str | None = None) -> str:
    """The app database through HAProxy's read-write port at the cluster's floating address, or at one member's
    address: HAProxy finds the leader. No target_session_attrs: where it leads is HAProxy's doing."""
    address = ADDRESS[host] if host else FLOATING_ADDRESS
    return (
        f"host={address} port={READ_WRITE_PORT} dbname=app user=app password={APP_PASSWORD} "
        "sslmode=require connect_timeout=2"
    )


def floating_address_holders() -> list[str]:
    """The members whose network interface holds the floating address now."""
    return [host for host in ADDRESS if host != REPOSITORY and holds_address(host, FLOATING_ADDRESS)]


def wait_until_the_floating_address_is_on(leader: str, timeout: float = 30) -> None:
    """keepalived moves the address within a few checks of the local Patroni (haproxy_vip_check_interval)."""
    wait_for(f"the floating address on {leader} alone", lambda: floating_address_holders() == [leader], timeout)


def rest(host: str, path: str) -> dict | list | None:
    """A GET of a member's REST API; None when it does not answer (down, cut off, not running)."""
    context = ssl.create_default_context(cafile=CA_FILE)
    try:
        with urllib.request.urlopen(f"https://{ADDRESS[host]}:{REST_PORT}{path}", context=context, timeout=3) as reply:
            return json.load(reply)
    except (OSError, urllib.error.URLError, ValueError):
        return None


def cluster(asking: tuple[str, ...] = MEMBERS) -> list[dict]:
    """The members as Patroni's /cluster lists them, asked of the first of `asking` that answers."""
    for host in asking:
        answer = rest(host, "/cluster")
        if isinstance(answer, dict):
            return answer.get("members", [])
    return []


def leader(asking: tuple[str, ...] = MEMBERS) -> str | None:
    members = cluster(asking)
    return next((m["name"] for m in members if m.get("role") == "leader" and m.get("state") == "running"), None)


def current_leader() -> str:
    """The leader a drill starts from (fails when there is none)."""
    found = leader()
    assert found, f"no leader before the drill: {cluster()}"
    return found


def member_conninfo(host: str) -> str:
    """The app database on one member, whichever its role."""
    return app_conninfo([host]).replace("target_session_attrs=read-write", "target_session_attrs=any")


def wait_until_replayed_past_the_leader(host: str, leader: str, timeout: float = 60) -> None:
    """Wait until a replica has replayed all the leader has written so far.

    Streaming is not following: a replica that replayed WAL the leader never had may receive the
    leader's timeline and never replay it. A promotion writes WAL, so the leader's position after one
    lies beyond every fork."""
    with psycopg.connect(member_conninfo(leader), autocommit=True) as connection:
        position = connection.execute("SELECT pg_current_wal_lsn()").fetchone()[0]

    def replayed() -> bool:
        with psycopg.connect(member_conninfo(host), autocommit=True) as connection:
            return connection.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (position,)).fetchone()[0]

    deadline = time.monotonic() + timeout
    while not replayed():
        if time.monotonic() > deadline:
            with psycopg.connect(member_conninfo(host), autocommit=True) as connection:
                state = connection.execute(
                    "SELECT pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn(), "
                    "(SELECT received_tli FROM pg_stat_wal_receiver), (SELECT timeline_id FROM pg_control_checkpoint())"
                ).fetchone()
            raise AssertionError(
                f"{host} has not replayed up to {leader}'s {position} within {timeout:.0f} s "
                f"(received, replayed, received timeline, checkpoint timeline: {state}): {cluster()}\n"
                f"{host}'s Patroni:\n{patroni_journal(host)}\n{host}'s server log:\n{server_log(host)}"
            )
        time.sleep(2)


def drill_rows(host: str) -> set[int]:
    """The drill table's rows on a member."""
    with psycopg.connect(app_conninfo([host])) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM drill")}


def wait_until_replica_streams(host: str, timeout: float = 180) -> dict:
    """Wait for a member to run as a replica streaming on the leader's timeline; its /cluster entry."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        members = cluster()
        lead = next((m for m in members if m.get("role") == "leader"), None)
        entry = next((m for m in members if m["name"] == host), None)
        if (
            lead
            and entry
            and entry.get("role") in ("replica", "sync_standby")
            and entry.get("state") in ("running", "streaming")
            and entry.get("timeline") == lead.get("timeline")
        ):
            return entry
        time.sleep(2)
    journals = "\n".join(f"{member}'s Patroni:\n{patroni_journal(member)}" for member in MEMBERS)
    raise AssertionError(f"{host} did not rejoin as a replica within {timeout:.0f} s: {cluster()}\n{journals}")


def archive_checked_and_backed_up(after: str) -> str:
    """Every member follows the leader after a drill, and pgBackRest goes on without a new stanza:
    `pgbackrest check` passes on whoever leads now (a WAL segment switched, archived and found in the
    repository), and an incremental backup runs from the repository host, which finds the primary, and
    a standby to copy from, by asking them (backup-standby). The figure for the drill's summary."""
    leader = current_leader()
    # Every member back as a replica on the leader's timeline first: the backup copies from a standby.
    for member in MEMBERS:
        if member != leader:
            wait_until_replica_streams(member)
            wait_until_replayed_past_the_leader(member, leader)
    on(leader, "pgbackrest", f"--stanza={STANZA}", "check", user="postgres")
    started = time.monotonic()
    said = on(
        REPOSITORY, "pgbackrest", f"--stanza={STANZA}", "--type=incr", "--log-level-console=info", "backup",
        user="pgbackrest",
    )  # fmt: skip
    took = time.monotonic() - started
    # pgBackRest says so when it copied the files from a standby (backup-standby, two to choose from).
    assert "replay on the standby reached" in said, said
    newest = json.loads(on(REPOSITORY, "pgbackrest", f"--stanza={STANZA}", "--output=json", "info", user="pgbackrest"))
    label = newest[0]["backup"][-1]["label"]
    return (
        f"patroni: after {after}: pgbackrest check passed on {leader}; "
        f"incremental backup {label} from a standby in {took:.1f} s"
    )


def journal(host: str, unit: str, lines: int = 60, seconds: float | None = None) -> str:
    """The end of a unit's journal on a host, for a failure's message: its last `lines`, or with
    `seconds` everything it wrote in the last so many seconds, to the microsecond."""
    window = f"-o short-precise --since -{int(seconds) + 1}s" if seconds else f"-n {lines}"
    return inside(host, "sh", "-c", f"journalctl -u '{unit}' --no-pager {window}").stdout


def patroni_journal(host: str, lines: int = 60, seconds: float | None = None) -> str:
    """The end of a member's Patroni journal (see `journal`)."""
    return journal(host, "patroni@*", lines, seconds)


def what_keepalived_did(seconds: float, hosts: tuple[str, ...] = MEMBERS) -> str:
    """The hosts' keepalived journals over the last `seconds`: who held the floating address when, for
    the message of a drill whose clients paused while a leader took writes."""
    return "\n".join(f"{host}'s keepalived:\n" + journal(host, "keepalived", seconds=seconds) for host in hosts)


def why_writes_paused(writer: Writer, what: str, seconds: float, hosts: tuple[str, ...] = MEMBERS) -> str:
    """A failure's message for a pause in counted writes: how long, what the writer met in it, and what
    keepalived did meanwhile, to tell a broken route from commits held by a standby."""
    return (
        f"writes paused {writer.longest_gap():.1f} s while {what}; "
        f"the writer's errors in the pause: {writer.errors_in_longest_gap() or 'none'}\n"
        + what_keepalived_did(seconds, hosts)
    )


def what_patroni_did(seconds: float) -> str:
    """Every member's Patroni journal over the last `seconds`, its idle loops left out: for the message
    of a drill that took longer than Patroni's timings say it should, which member waited on what."""
    idle = ("INFO: no action", "INFO: Lock owner")
    return "\n".join(
        f"{member}'s Patroni:\n"
        + "\n".join(
            line[:300]
            for line in patroni_journal(member, seconds=seconds).splitlines()
            if not any(word in line for word in idle)
        )
        for member in MEMBERS
    )


def server_log(host: str, lines: int = 40) -> str:
    """The end of a member's newest PostgreSQL log, for a failure's message."""
    newest = "ls -t /var/log/postgresql/*/postgresql-*.log | head -1"
    return inside(host, "sh", "-c", f"tail -n {lines} $({newest})").stdout


def wait_until_roles(wanted: set[str], timeout: float = 60) -> dict[str, str]:
    """Wait until the members' roles in Patroni's /cluster are exactly `wanted`; each member's role."""

    def roles() -> dict[str, str] | None:
        now = {member["name"]: member["role"] for member in cluster()}
        return now if set(now.values()) == wanted else None

    return wait_for(f"Patroni's roles {sorted(wanted)}", roles, timeout)


def etcd_term(host: str) -> int:
    """The raft term of a member's etcd: it rises with every election the member takes part in."""
    status = on(
        host, "etcdctl", "--cacert=/etc/etcd/tls/ca.crt", "--cert=/etc/etcd/tls/host.crt",
        "--key=/etc/etcd/tls/host.key", f"--endpoints=https://{ADDRESS[host]}:2379", "endpoint", "status", "-w", "json",
    )  # fmt: skip
    return json.loads(status)[0]["Status"]["raftTerm"]


def wait_until_config_holds(host: str, key: str, value: object, timeout: float = 30) -> None:
    """Wait until a member's view of the cluster-wide settings (GET /config) holds `value` at `key`."""

    def holds() -> bool:
        return (rest(host, "/config") or {}).get(key) == value

    wait_for(f"{host}'s /config holding {key}={value}", holds, timeout)


def cut_off(host: str) -> None:
    """Nothing `host` sends reaches the other members (blackhole routes in its network namespace, set
    from this machine); the controller still reaches it, as clients on another network would."""
    for other in MEMBERS:
        if other != host:
            on(host, "ip", "route", "add", "blackhole", f"{ADDRESS[other]}/32")


def heal(host: str) -> None:
    for other in MEMBERS:
        if other != host:
            on(host, "ip", "route", "del", "blackhole", f"{ADDRESS[other]}/32")
