"""Converting the lab's running cluster to Patroni (groundwork_pg_ha=patroni) under a counted writer.

The operator's steps on a hardened cluster: the firewall first (hardening.yml --tags
hardening_firewall), so that the members reach Patroni's REST API and etcd, then postgresql.yml, which
starts etcd on the members and Patroni on the same data, the primary first, then HAProxy on the
members and keepalived holding a floating address on the leader. (A second run changing nothing under
Patroni is molecule/patroni's idempotence step.) Last of the lab's modules (tests/conftest.py's LAB_MODULES):
it ends converting the cluster back to the inventory-driven mode.

Then what only the lab has, a repository host: the leader's container is killed under the counted
writer (through the floating address, which follows the new leader), the old leader rejoins by itself,
and the archive and the backups go on without a new stanza; a member Patroni rebuilds is restored from
the repository rather than copied from the leader.
"""

from __future__ import annotations

import functools
import json
import time

import lab
import psycopg
import pytest
from counted_writes import summary
from drills import stop_all, writes_and_samples
from harness import Figures, holds_address, inside, recap, said, tail, wait_for, warnings_in
from lab import LabInventory, app_conninfo, endpoint_conninfo, on, rows_on, sql
from lab_prometheus import metric_names, prometheus, query
from promql import PATRONI_RULES, rule_pack_metrics

pytestmark = pytest.mark.in_sequence


@functools.cache
def floating_address() -> str:
    """A free address of the lab's network for the cluster's floating address: podman hands out the lowest.
    Read once, while every member runs: a killed container has no address to read the network from."""
    return lab.address("pg1").rsplit(".", 1)[0] + ".250"


def patroni() -> list[str]:
    """The conversion's settings, given to every playbook run from the firewall step on. Synchronous (one
    standby): a killed leader then loses no acknowledged commit, which the drill counts. A floating address:
    keepalived holds it on the leader, the firewall lets the members' VRRP in. PgBouncer: HAProxy leads to the
    members' PgBouncer, which the firewall opens to the members alone."""
    settings = {
        "groundwork_pg_ha": "patroni",
        "postgresql_synchronous_quorum": 1,
        "groundwork_pg_vip_address": floating_address(),
        "groundwork_pg_pgbouncer": True,
    }
    return ["-e", json.dumps(settings)]


def through_the_floating_address() -> str:
    """The app database through HAProxy's read-write port at the floating address."""
    return (
        f"host={floating_address()} port=5000 dbname=app user=app password={lab.APP_PASSWORD} "
        "sslmode=require connect_timeout=2"
    )


def floating_address_holders() -> list[str]:
    """The members whose interface holds the floating address now."""
    return [host for host in lab.MEMBERS if holds_address(lab.PREFIX + host, floating_address())]


PATRONI_CONFIG = f"/etc/patroni/{lab.PG_VERSION}-main.yml"
PATRONI_UNIT = f"patroni@{lab.PG_VERSION}-main"
# Patroni's timings (the role's defaults): the dead leader's lock expires after ttl (30 s), a replica
# notices within loop_wait (10 s) and promotes; a margin for a loaded machine.
FAILOVER_BOUND = 30 + 10 + 15


def members(asking: tuple[str, ...] = lab.MEMBERS) -> dict[str, dict]:
    """Patroni's members by name, as patronictl lists them on the first of `asking` that answers."""
    for host in asking:
        listed = inside(lab.PREFIX + host, "patronictl", "-c", PATRONI_CONFIG, "list", "-f", "json")
        if listed.returncode == 0:
            return {member["Member"]: member for member in json.loads(listed.stdout)}
    return {}


def leader(asking: tuple[str, ...] = lab.MEMBERS) -> str | None:
    running = (name for name, m in members(asking).items() if m["Role"] == "Leader" and m["State"] == "running")
    return next(running, None)


def streams(host: str) -> bool:
    """Whether a member follows the leader on its timeline (Patroni 3.0 says "running" of a replica that streams)."""
    listed = members()
    lead = next((m for m in listed.values() if m["Role"] == "Leader"), {})
    me = listed.get(host, {})
    if not (
        me.get("Role") in ("Replica", "Sync Standby")
        and me.get("State") in ("running", "streaming")
        and me.get("TL") == lead.get("TL")
    ):
        return False
    # Patroni 3.0 says "running" while PostgreSQL is still replaying up to consistency and refuses connections:
    # the member's own WAL receiver is the proof (a failed psql here is a "not yet", not a failure).
    receiver = inside(lab.PREFIX + host, "psql", "-XAtqc", "SELECT status FROM pg_stat_wal_receiver", user="postgres")
    return receiver.returncode == 0 and receiver.stdout.strip() == "streaming"


def test_the_running_cluster_converts_to_patroni_losing_no_row(inventory: LabInventory, figures: Figures) -> None:
    with psycopg.connect(app_conninfo(["pg1"]), autocommit=True) as connection:  # the drills' table, if none ran
        connection.execute("CREATE TABLE IF NOT EXISTS drill (id bigint PRIMARY KEY)")
    writer, sampler = writes_and_samples()
    try:
        rc, out = inventory.playbook("hardening", "--tags", "hardening_firewall", *patroni())
        assert rc == 0, tail(out)
        rc, out = inventory.playbook("postgresql", *lab.PAUSED, *patroni())
        assert rc == 0, tail(out)
    finally:
        stop_all(writer, sampler)
    figures.append(summary(writer, sampler, rows_on(app_conninfo(["pg1"])), "patroni conversion of the lab"))

    listed = on("pg1", "patronictl", "-c", PATRONI_CONFIG, "list", "-f", "json")
    members = {member["Member"]: member for member in json.loads(listed)}
    assert set(members) == set(lab.MEMBERS), listed
    assert members["pg1"]["Role"] == "Leader", listed
    assert all(members[host]["State"] in ("running", "streaming") for host in lab.STANDBYS), listed
    # Debian's unit is masked for good: nothing but Patroni starts the server again.
    for host in lab.MEMBERS:
        assert inside(lab.PREFIX + host, "systemctl", "is-enabled", lab.PG_UNIT).stdout.strip() == "masked", host


def test_a_run_without_patroni_in_its_variables_is_refused_before_anything_changes(inventory: LabInventory) -> None:
    # The conversion's variables left out (or groundwork_pg_ha changed back): Debian's unit masked on every
    # member must not read as fenced by pg_failover, with pg_rejoin as the way back (as it did before).
    rc, out = inventory.playbook("postgresql", *lab.PAUSED)
    assert rc != 0
    for host in lab.MEMBERS:
        assert f"Patroni runs {host}'s server ({PATRONI_UNIT} is enabled)" in said(out), tail(out)
    assert "or convert it back first: ansible-playbook groundwork.infra.pg_leave_patroni" in said(out), tail(out)
    # The live check's message (Ansible also prints the refusing task's source, whose comment names it).
    assert "was fenced by pg_failover" not in said(out), tail(out)
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)


def test_clients_reach_the_leader_and_the_replicas_through_haproxy_past_the_firewall() -> None:
    # From this machine (the lab's application network), through each member's HAProxy, which the
    # hardened firewall lets it reach: the read-write port leads to the leader, the read-only one to a replica,
    # each through its PgBouncer (the server sees a client on its socket: no address), which the firewall
    # lets the members' HAProxy reach.
    for entry in lab.MEMBERS:
        for port, recovery in ((5000, False), (5001, True)):
            with psycopg.connect(endpoint_conninfo((entry,), port)) as connection:
                served = connection.execute("SELECT pg_is_in_recovery(), inet_server_addr()").fetchone()
            assert served == (recovery, None), (entry, port, served)


def rule_sources(host: str, marker: str) -> set[str]:
    """The source addresses of the accepting rule of `host`'s firewall whose line holds `marker`."""
    ruleset = inside(lab.PREFIX + host, "nft", "list", "table", "inet", "groundwork").stdout
    rule = next((line for line in ruleset.splitlines() if marker in line and " accept" in line), "")
    assert rule, (host, marker, ruleset)
    return set(rule.split("saddr {", 1)[1].split("}", 1)[0].replace(" ", "").split(","))


def test_pgbouncer_is_open_to_the_members_alone() -> None:
    # This machine is on the application network: HAProxy's ports let it in (above), PgBouncer's does not.
    members = {lab.address(host) for host in lab.MEMBERS}
    for host in lab.MEMBERS:
        assert rule_sources(host, "PgBouncer") == members, host
        with pytest.raises(psycopg.OperationalError, match="timeout expired"):
            psycopg.connect(endpoint_conninfo((host,), 6432)).close()


def test_the_floating_address_is_on_the_leader_alone_and_the_firewall_lets_the_members_vrrp_in() -> None:
    wait_for("the floating address on the leader alone", lambda: floating_address_holders() == [leader()], 30)
    with psycopg.connect(through_the_floating_address()) as connection:
        assert connection.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
    members = {lab.address(host) for host in lab.MEMBERS}
    for host in lab.MEMBERS:
        assert rule_sources(host, "VRRP") == members, host


def test_prometheus_reads_patroni_and_etcd_on_every_member_and_the_patroni_pack_reads_only_what_they_give(
    inventory: LabInventory, figures: Figures
) -> None:
    # The monitoring host's targets follow the inventory: its configuration step again, under Patroni. The
    # firewall step before the conversion already let mon1 reach Patroni's and etcd's ports.
    rc, out = inventory.playbook("monitoring", "--tags", "monitoring_config", *patroni())
    assert rc == 0, tail(out)
    assert warnings_in(out) == []

    def scraped(job: str) -> set[str]:
        return {answer["metric"]["host"] for answer in query(f'up{{job="{job}"}} == 1')}

    wait_for(
        "Prometheus scraping Patroni and etcd on every member",
        lambda: scraped("patroni") == scraped("etcd") == set(lab.MEMBERS),
        90,
    )
    assert rule_pack_metrics(PATRONI_RULES) - metric_names() == set(), "metrics the Patroni pack reads that nobody gave"

    def by_job(expression: str) -> dict[str, float]:
        return {answer["metric"]["job"]: float(answer["value"][1]) for answer in query(expression)}

    took = by_job('avg by (job) (scrape_duration_seconds{job=~"patroni|etcd"})')
    samples = by_job('avg by (job) (scrape_samples_scraped{job=~"patroni|etcd"})')
    figures.append(
        "scrape duration, Patroni and etcd: "
        + ", ".join(f"{job} {took[job] * 1000:.0f} ms ({samples[job]:.0f} samples)" for job in sorted(took))
    )


def test_killing_the_leaders_container_fails_over_losing_nothing_and_it_rejoins_by_itself(figures: Figures) -> None:
    old = leader()
    assert old, members()
    others = tuple(host for host in lab.MEMBERS if host != old)
    # Clients write through the floating address, which keepalived moves to the new leader.
    writer, sampler = writes_and_samples(through_the_floating_address())
    try:
        # The pause is measured from a commit before the kill: a writer that had none would measure nothing.
        wait_for("a write through the floating address before the kill", lambda: writer.commit_times, 30, interval=1)
        killed_at = time.monotonic()
        lab.container("kill", old)
        wait_for(
            "a write through the floating address after the kill",
            lambda: writer.commit_times and writer.commit_times[-1] > killed_at + 1,
            FAILOVER_BOUND + 30,
            interval=1,
        )
        time.sleep(3)
    finally:
        stop_all(writer, sampler)
    new = leader(others)
    assert new in others, members(others)
    wait_for(f"the floating address on {new} alone", lambda: floating_address_holders() == [new], 30)
    what = f"patroni lab: {old}'s container killed, {new} took over"
    figures.append(summary(writer, sampler, rows_on(app_conninfo([new])), what))
    assert writer.longest_gap() < FAILOVER_BOUND, f"writes paused {writer.longest_gap():.1f} s"

    # Its host comes back: Patroni rewinds it onto the new leader's history, archiving first what it
    # had not archived (the archive keeps no gap), and it streams again.
    lab.container("start", old)
    wait_for(f"{old} streaming from {new} again", lambda: streams(old), 180)


def test_the_failover_reached_alertmanager_as_patroni_leader_changed() -> None:
    # The new leader's timeline is the cluster's newest: the alert fires at the next evaluation after
    # the scrape that saw it, and stays for the 15 minutes its comparison spans.
    def active() -> list[dict]:
        alerts = prometheus("/api/v2/alerts?filter=alertname%3D%22PatroniLeaderChanged%22", port=9093)
        return [a for a in alerts if a["labels"].get("cluster") == "main" and a["status"]["state"] == "active"]

    wait_for("PatroniLeaderChanged active in Alertmanager", active, 120)


def test_after_the_failover_the_archive_and_backups_go_on_without_a_new_stanza(inventory: LabInventory) -> None:
    # The inventory still names pg1 the primary: pgBackRest finds the leader itself.
    new = leader()
    check = inside(lab.PREFIX + new, "runuser", "-u", "postgres", "--", "pgbackrest", "--stanza=main", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    rc, out = inventory.playbook("backup_now", *patroni(), "-e", "pgbackrest_backup_type=incr")
    assert rc == 0, tail(out)
    assert "main: took " in said(out), tail(out)
    assert lab.repository_info()["status"]["code"] == 0, lab.repository_info()["status"]


def test_a_member_patroni_rebuilds_is_restored_from_the_repository_then_streams() -> None:
    rebuilt = sorted(host for host in lab.MEMBERS if host != leader())[-1]

    def restores() -> list[str]:
        """pgBackRest's own log of the restores run on the member, one entry each (Patroni runs them)."""
        log = inside(lab.PREFIX + rebuilt, "cat", "/var/log/pgbackrest/main-restore.log").stdout
        return log.split("restore command begin")[1:]

    before = len(restores())
    on(rebuilt, "patronictl", "-c", PATRONI_CONFIG, "reinit", "main", rebuilt, "--force")
    # Patroni's list may still show the member as it was for a moment: first the restore's end, then streaming.
    wait_for(f"{rebuilt} restored", lambda: len(restores()) > before and "restore command end" in restores()[-1], 300)
    wait_for(f"{rebuilt} streaming after its restore", lambda: streams(rebuilt), 120)
    restore = restores()[-1]
    assert "restore command end: completed successfully" in restore, restore[-2000:]
    assert "--delta" in restore, restore[:600]
    assert "--type=standby" in restore, restore[:600]
    count = "SELECT count(*) FROM drill"

    def caught_up() -> bool:
        return sql(rebuilt, count, "app") == sql(leader(), count, "app")

    wait_for("the rebuilt member holds the leader's rows", caught_up, 30)


# The way back takes the lab out of Patroni: last of the module. The write pause it may cost is that of an
# inventory-driven switchover: the primary's restart under Debian's unit, and a synchronous standby's
# reconnection (one wal_retrieve_retry_interval, 5 s), with a margin for a loaded machine.
LEAVE_PAUSE_BOUND = 15
# The conversion's settings but one: the cluster stays synchronous, in the inventory-driven mode's way.
STILL_SYNCHRONOUS = ("-e", json.dumps({"postgresql_synchronous_quorum": 1}))


def test_converting_back_is_refused_while_the_inventory_keeps_patroni_or_names_a_standby_the_primary(
    inventory: LabInventory,
) -> None:
    primary = leader()
    assert primary, members()
    standby = next(host for host in lab.MEMBERS if host != primary)
    inventory.write(primary=primary)
    rc, out = inventory.playbook("pg_leave_patroni", *patroni())
    assert rc != 0
    assert "The inventory still makes cluster main Patroni's (groundwork_pg_ha=patroni)" in said(out), tail(out)
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)

    inventory.write(primary=standby)
    rc, out = inventory.playbook("pg_leave_patroni")
    assert rc != 0
    refusal = f"The inventory makes {standby} the primary of cluster main, but it runs as a standby"
    assert refusal in said(out), tail(out)
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)
    assert leader() == primary, members()


def test_the_cluster_converts_back_to_inventory_driven_losing_no_row(inventory: LabInventory, figures: Figures) -> None:
    # The operator's steps: the inventory names Patroni's leader the primary (after the failovers above it is
    # not pg1); clients connect to the members directly, as in the inventory-driven mode (HAProxy, the floating
    # address and PgBouncer go with Patroni); pg_leave_patroni.yml without the conversion's settings.
    primary = leader()
    assert primary, members()
    inventory.write(primary=primary)
    writer, sampler = writes_and_samples()
    started = time.monotonic()
    try:
        rc, out = inventory.playbook("pg_leave_patroni", *STILL_SYNCHRONOUS)
    finally:
        stop_all(writer, sampler)
    took = time.monotonic() - started
    assert rc == 0, tail(out)
    assert warnings_in(out) == [], warnings_in(out)
    figures.append(
        summary(writer, sampler, rows_on(app_conninfo([primary])), "patroni lab converted back")
        + f"; playbook {took:.0f} s"
    )
    assert writer.longest_gap() < LEAVE_PAUSE_BOUND, f"writes paused {writer.longest_gap():.1f} s"

    for host in lab.MEMBERS:
        units = f"{lab.PG_UNIT} {PATRONI_UNIT} haproxy keepalived pgbouncer etcd"
        states = inside(lab.PREFIX + host, "sh", "-c", f"for u in {units}; do systemctl is-active $u; done").stdout
        assert states.split() == ["active", "inactive", "inactive", "inactive", "inactive", "inactive"], (host, states)
        assert inside(lab.PREFIX + host, "test", "-e", PATRONI_CONFIG).returncode == 1, host
    assert floating_address_holders() == []
    # The role's slots and synchronous standbys (gw_<host>), Patroni's gone; both standbys stream to the primary.
    slots = sql(primary, "SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots")
    standbys = sorted(host for host in lab.MEMBERS if host != primary)
    assert slots == ",".join(f"gw_{host}" for host in standbys), slots
    streaming = sql(
        primary, "SELECT string_agg(application_name, ',' ORDER BY application_name) FROM pg_stat_replication"
    )
    assert streaming == ",".join(f"gw_{host}" for host in standbys), streaming
    assert sql(primary, "SHOW synchronous_standby_names") == f"ANY 1 ({', '.join(f'gw_{h}' for h in standbys)})"

    # The role takes the cluster as its own again: an inventory-driven run finds nothing to change.
    rc, out = inventory.playbook("postgresql", *lab.PAUSED, *STILL_SYNCHRONOUS)
    assert rc == 0, tail(out)
    changed = {host: counts["changed"] for host, counts in recap(out).items() if counts["changed"]}
    assert changed == {}, tail(out)
