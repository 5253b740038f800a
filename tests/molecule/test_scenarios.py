"""Every Molecule scenario as pytest tests: converge, idempotence, check mode, verify.

Each scenario's steps share its instances (class scope); destroy runs whatever happens.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import older_packages
import patroni_cluster
import psycopg
import pytest
import yaml
from cluster_ca import CA_NAME, issue
from counted_writes import PrimarySampler, Writer, summary
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from harness import (
    ROOT,
    Figures,
    changed_or_failed,
    inside,
    on,
    project_env,
    recap,
    run,
    said,
    sql,
    tail,
    wait_for,
    warnings_in,
)
from scenario_hosts import ScenarioInventory

SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
# Figures a scenario's verify must print (the issue asks for Lynis's index before and after).
EXPECTED_FIGURES = {"hardening": "Lynis hardening index"}


def molecule(scenario: str, action: str) -> tuple[int, str]:
    # Niced: the controller's share goes first to the lab's modules on the other worker, the run's
    # critical path (the lab's hosts get the larger CPU weight, tests/integration/lab.py).
    result = run(["nice", "-n", "10", "molecule", action, "-s", scenario], env=project_env(), timeout=2400)
    return result.returncode, result.stdout + result.stderr


def make_fixed_address_networks(scenario: str) -> None:
    """The network of platforms with fixed addresses, a /24 around them (Molecule's schema has no subnet).

    The podman driver uses a network that exists and removes it at destroy.
    """
    platforms = yaml.safe_load((ROOT / "molecule" / scenario / "molecule.yml").read_text())["platforms"]
    for network, address in sorted({(p["network"], p["ip"]) for p in platforms if "ip" in p}):
        subnet = address.rsplit(".", 1)[0] + ".0/24"
        if run(["podman", "network", "exists", network], env=project_env()).returncode != 0:
            made = run(["podman", "network", "create", "--subnet", subnet, network], env=project_env())
            assert made.returncode == 0, made.stderr


@pytest.fixture(scope="module", params=SCENARIOS)
def converged(request: pytest.FixtureRequest) -> Iterator[str]:
    scenario: str = request.param
    # A killed earlier run may have left instances behind: start from nothing.
    molecule(scenario, "destroy")
    make_fixed_address_networks(scenario)
    try:
        for action in ("create", "prepare", "converge"):
            started = time.monotonic()
            rc, out = molecule(scenario, action)
            assert rc == 0, f"molecule {action} -s {scenario} failed:\n{tail(out)}"
        CONVERGE_OUTPUT[scenario] = out
        CONVERGE_SECONDS[scenario] = time.monotonic() - started
        yield scenario
    finally:
        # GROUNDWORK_KEEP_SCENARIO=1 keeps the instances, to look into a failed drill (as GROUNDWORK_KEEP_LAB).
        if os.environ.get("GROUNDWORK_KEEP_SCENARIO") != "1":
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
    changed = changed_or_failed(out)
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


# Drills on the Debian 13 cluster's instances, after its scenario's steps.
S3 = pytest.mark.parametrize("converged", ["cluster_debian13"], indirect=True)


@S3
def test_backup_now_and_verify_backup_without_a_repository_host(converged: str, tmp_path: Path) -> None:
    inventory = ScenarioInventory(tmp_path, ROOT / "molecule" / "cluster_debian13" / "molecule.yml")
    rc, out = inventory.playbook("backup_now", "-e", "pgbackrest_backup_type=diff")
    assert rc == 0, tail(out)
    assert "main: took " in said(out)
    assert "(diff, " in said(out)
    sql("gw-c13", "CREATE TABLE s3_ledger AS SELECT g AS id FROM generate_series(1, 5000) g")
    rc, out = inventory.playbook("verify_backup", "-e", json.dumps({"pgbackrest_verify_tables": ["s3_ledger"]}))
    assert rc == 0, tail(out)
    assert "restored on gw-c13 up to restore point" in said(out)
    assert "restores, and the restored data matches the primary" in said(out)
    assert "tables (name|rows|md5), restored: s3_ledger|5000|" in said(out)


# The cluster CA's drills, on the same Debian 13 cluster: a server certificate and then the CA itself
# about to expire, renewed by postgresql.yml while the replica keeps verifying its primary.
DEBIAN_13 = ROOT / "molecule" / "cluster_debian13"
PRIMARY, REPLICA = "gw-c13", "gw-c13-replica"
CA_DIR = ROOT / ".cache" / "molecule-cluster-debian13" / "pki"


def version() -> str:
    """PostgreSQL's major version on the cluster: Debian 13's."""
    return on(PRIMARY, "ls", "/etc/postgresql")


def tls_dir() -> str:
    return f"/etc/postgresql/{version()}/main/tls"


def put(host: str, path: str, text: str) -> None:
    written = inside(host, "tee", path, stdin=text)
    assert written.returncode == 0, (host, path, written.stderr)


def reload_postgresql(host: str) -> None:
    on(host, "systemctl", "reload", f"postgresql@{version()}-main")


def replica_verifies_the_primary_again() -> None:
    """The replica's connection dropped, then back: it streams over TLS with verify-full (fails after 60 s)."""
    sql(PRIMARY, "SELECT pg_terminate_backend(pid) FROM pg_stat_replication")
    streaming = (
        "SELECT count(*) FROM pg_stat_replication JOIN pg_stat_ssl USING (pid) WHERE ssl AND state = 'streaming'"
    )
    deadline = time.monotonic() + 60
    while sql(PRIMARY, streaming) != "1":
        assert time.monotonic() < deadline, "the replica did not stream again over TLS"
        time.sleep(1)
    assert "sslmode=verify-full" in sql(REPLICA, "SELECT conninfo FROM pg_stat_wal_receiver")


@S3
def test_a_certificate_about_to_expire_is_reissued_and_the_replica_verifies_it(converged: str, tmp_path: Path) -> None:
    # The primary's certificate, as the cluster CA would have issued it 820 days ago: 5 days left.
    server_crt = f"{tls_dir()}/server.crt"
    ca_key = serialization.load_pem_private_key((CA_DIR / "ca.key").read_bytes(), password=None)
    current = x509.load_pem_x509_certificate(on(PRIMARY, "cat", server_crt).encode())
    now = datetime.datetime.now(datetime.UTC)
    issued = now - datetime.timedelta(days=820)
    expiring = issue(current.public_key(), current.subject, ca_key, issued, days=825, like=current)
    put(PRIMARY, server_crt, expiring.public_bytes(serialization.Encoding.PEM).decode())
    reload_postgresql(PRIMARY)

    rc, out = ScenarioInventory(tmp_path, DEBIAN_13 / "molecule.yml").playbook("postgresql")
    assert rc == 0, tail(out)
    assert set(changed_or_failed(out)) == {PRIMARY}, tail(out)
    renewed = x509.load_pem_x509_certificate(on(PRIMARY, "cat", server_crt).encode())
    assert renewed.not_valid_after_utc > now + datetime.timedelta(days=800)
    assert renewed.public_key() == current.public_key()
    replica_verifies_the_primary_again()


@S3
def test_a_ca_about_to_expire_is_rotated_while_the_replica_keeps_verifying(converged: str, tmp_path: Path) -> None:
    # The CA as if made ten years ago, 10 days left; every member's certificate signed by it, and
    # every member trusting it alone, as the role left them back then.
    tls = tls_dir()
    now = datetime.datetime.now(datetime.UTC)
    old_key = ec.generate_private_key(ec.SECP384R1())
    old_ca = issue(old_key.public_key(), CA_NAME, old_key, now - datetime.timedelta(days=3640), days=3650, ca=True)
    old_pem = old_ca.public_bytes(serialization.Encoding.PEM).decode()
    pkcs8, unencrypted = serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    (CA_DIR / "ca.key").write_bytes(old_key.private_bytes(serialization.Encoding.PEM, pkcs8, unencrypted))
    (CA_DIR / "ca.crt").write_text(old_pem)
    for host in (PRIMARY, REPLICA):
        current = x509.load_pem_x509_certificate(on(host, "cat", f"{tls}/server.crt").encode())
        server = issue(current.public_key(), current.subject, old_key, now, days=300, like=current)
        put(host, f"{tls}/server.crt", server.public_bytes(serialization.Encoding.PEM).decode())
        put(host, f"{tls}/ca.crt", old_pem)
        reload_postgresql(host)
    replica_verifies_the_primary_again()

    inventory = ScenarioInventory(tmp_path, DEBIAN_13 / "molecule.yml")
    rc, out = inventory.playbook("postgresql")
    assert rc == 0, tail(out)
    assert set(changed_or_failed(out)) == {PRIMARY, REPLICA}, tail(out)
    new_ca = x509.load_pem_x509_certificate((CA_DIR / "ca.crt").read_bytes())
    assert new_ca.not_valid_after_utc > now + datetime.timedelta(days=3000)
    assert (CA_DIR / "ca-previous.crt").read_text() == old_pem
    for host in (PRIMARY, REPLICA):
        trusted = x509.load_pem_x509_certificates(on(host, "cat", f"{tls}/ca.crt").encode())
        fingerprints = {certificate.fingerprint(hashes.SHA256()) for certificate in trusted}
        assert fingerprints == {new_ca.fingerprint(hashes.SHA256()), old_ca.fingerprint(hashes.SHA256())}, host
        x509.load_pem_x509_certificate(on(host, "cat", f"{tls}/server.crt").encode()).verify_directly_issued_by(new_ca)

    # The replica connects again and verifies the certificates of the new CA; a second run changes nothing.
    replica_verifies_the_primary_again()
    rc, out = inventory.playbook("postgresql")
    assert rc == 0, tail(out)
    assert set(changed_or_failed(out)) == set(), tail(out)


def test_scenario_dirs_exist() -> None:
    assert SCENARIOS, "no Molecule scenario found"
    for name in SCENARIOS:
        assert Path(ROOT / "molecule" / name / "converge.yml").is_file()
        # `molecule check` must run on the converged instances, not rebuild them (its default sequence).
        config = yaml.safe_load((ROOT / "molecule" / name / "molecule.yml").read_text())
        assert config["scenario"]["check_sequence"] == ["check"], name


# Drills on the Patroni cluster's instances, after its scenario's steps (molecule/patroni): a counted
# writer goes through the read-write port of the members' HAProxy (the first that answers), and a
# sampler asks every member directly, twice a second, whether it takes writes.
PATRONI = pytest.mark.parametrize("converged", ["patroni"], indirect=True)
# Patroni's timings (the role's defaults): the dead leader's lock expires after ttl (30 s), a replica
# notices within loop_wait (10 s) and promotes. The bound a failover must keep, with a margin for a
# loaded machine.
FAILOVER_BOUND = 30 + 10 + 15


def counted_writes_on_patroni() -> tuple[Writer, PrimarySampler]:
    with psycopg.connect(patroni_cluster.app_conninfo(patroni_cluster.MEMBERS), autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS drill (id integer PRIMARY KEY)")
        connection.execute("TRUNCATE drill")
    # Clients go through HAProxy's read-write port at the floating address keepalived holds on the leader.
    writer = Writer(patroni_cluster.endpoint_conninfo())
    sampler = PrimarySampler({host: patroni_cluster.app_conninfo([host]) for host in patroni_cluster.MEMBERS})
    writer.start()
    sampler.start()
    time.sleep(3)
    return writer, sampler


def played_under_counted_writes(
    inventory: ScenarioInventory, name: str, *args: str
) -> tuple[str, float, Writer, PrimarySampler]:
    """A playbook that must succeed with no warning, run under counted writes (which stop 3 s after it,
    for its last commits to land): its output, its seconds, the writer and the sampler."""
    writer, sampler = counted_writes_on_patroni()
    started = time.monotonic()
    try:
        rc, out = inventory.playbook(name, *args)
        took = time.monotonic() - started
        time.sleep(3)
    finally:
        writer.stop()
        sampler.stop()
    assert rc == 0, tail(out)
    assert warnings_in(out) == []
    return out, took, writer, sampler


# A loaded host answers slowly: Patroni's REST API on the leader says nothing for 5 s while the leader
# keeps taking writes, and keepalived is reloaded meanwhile (as pg_add_replica's members reload theirs).
# keepalived and HAProxy ask Patroni every second; a leader whose answers are late is still the leader
# (its lock lasts Patroni's ttl, 30 s), and taking the floating address or the clients' sessions from it
# stops every client for nothing (in CI, 14.6 s while pg_add_replica loaded the host).
API_SILENCE = 5


@PATRONI
def test_a_leader_whose_patroni_answers_late_keeps_the_floating_address_and_its_clients(converged: str) -> None:
    leader = patroni_cluster.current_leader()
    patroni = on(leader, "systemctl", "show", "--property=MainPID", "--value", "patroni@15-main")
    writer, sampler = counted_writes_on_patroni()
    silenced_at = time.monotonic()
    try:
        on(leader, "kill", "-STOP", patroni)
        time.sleep(API_SILENCE / 2)  # a check is under way, waiting for the answer
        on(leader, "systemctl", "reload", "keepalived")
        time.sleep(API_SILENCE / 2)
    finally:
        on(leader, "kill", "-CONT", patroni)
        time.sleep(5)
        writer.stop()
        sampler.stop()
    took = time.monotonic() - silenced_at
    assert writer.longest_gap() < 2, patroni_cluster.why_writes_paused(
        writer, f"{leader}'s Patroni answered nothing for {API_SILENCE} s", took + 5
    )
    assert not writer.in_doubt
    assert patroni_cluster.leader() == leader
    assert patroni_cluster.floating_address_holders() == [leader]


@PATRONI
def test_killing_the_primarys_container_promotes_a_synchronous_standby_and_loses_nothing(
    converged: str, figures: Figures
) -> None:
    old = patroni_cluster.current_leader()
    writer, sampler = counted_writes_on_patroni()
    killed_at = time.monotonic()
    killed = run(["podman", "kill", "--signal", "KILL", old], env=project_env())
    try:
        assert killed.returncode == 0, killed.stderr
        deadline = killed_at + FAILOVER_BOUND + 30
        while not (writer.commit_times and writer.commit_times[-1] > killed_at + 1):
            assert time.monotonic() < deadline, f"no write went through {FAILOVER_BOUND + 30} s after the kill"
            time.sleep(1)
        time.sleep(3)
    finally:
        writer.stop()
        sampler.stop()
    new = patroni_cluster.leader()
    assert new not in (None, old), patroni_cluster.cluster()
    present = patroni_cluster.drill_rows(new)
    figures.append(summary(writer, sampler, present, f"patroni: primary's container killed, {new} took over"))
    pause = writer.longest_gap()
    assert pause < FAILOVER_BOUND, f"writes paused {pause:.1f} s, beyond Patroni's bound of {FAILOVER_BOUND} s"

    # The old primary's host comes back: it rejoins by itself, rewound onto the new leader's history.
    started = run(["podman", "start", old], env=project_env())
    assert started.returncode == 0, started.stderr
    patroni_cluster.wait_until_the_floating_address_is_on(new)
    patroni_cluster.wait_until_replica_streams(old)
    # pgBackRest after the kill: the next drill checks the archive and backs up once it has handed over
    # (one check per two leader changes; each costs the suite's critical path up to a minute).


# A planned switchover through the collection's entry point (the postgresql role's, which pg_switchover.yml
# and patch.yml run), which asks Patroni: in synchronous mode only the synchronous standby may take over.
# Writes pause for the leader's clean stop, the candidate's promotion and HAProxy's checks: 3-5 s on an
# idle machine. The bound is Patroni's worst case, two HA loops (loop_wait, 10 s): the candidate's when it
# misses the wake-up of the leader's release in etcd, one more when it postpones its promotion (the sync
# state changed under it); 21 s once on a CI machine both cores of which the lab's drills kept busy.
SWITCHOVER_BOUND = 2 * 10 + 5
# Rolling patching under Patroni (playbooks/patch.yml), on the cluster's members (--limit postgresql: a
# plain server in a batch is the lab drill's case). libssl3 and openssl go one version behind the mirror
# on every member (tests/older_packages.py): every member's server, HAProxy and Patroni then run replaced
# code. The run, under counted writes: each replica's Patroni (and with it its server) stopped around its
# upgrade, the switchover to the synchronous standby, the old leader patched, and a switch back when
# Patroni allows it (said otherwise). A synchronous standby's stop holds commits until the leader's next
# HA loop names another (loop_wait): shorter than a switchover's worst case, the same bound. The run's
# etcd gate is tried in the etcd drill below.
OLDER_ON_MEMBERS = ("libssl3", "openssl")


@PATRONI
def test_a_switchover_to_a_standby_that_is_not_synchronous_is_refused_and_patch_yml_hands_over_losing_nothing(
    converged: str, figures: Figures, tmp_path: Path
) -> None:
    inventory = ScenarioInventory(tmp_path, ROOT / "molecule" / "patroni" / "molecule.yml")
    members = patroni_cluster.MEMBERS
    old = patroni_cluster.current_leader()
    # The member the drill above killed may have rejoined a moment ago: Patroni names a synchronous
    # standby again within a loop or two.
    roles = patroni_cluster.wait_until_roles({"leader", "sync_standby", "replica"})
    synchronous = next(name for name, role in roles.items() if role == "sync_standby")
    asynchronous = next(name for name, role in roles.items() if role == "replica")

    rc, out = inventory.playbook("pg_switchover", "-e", f"pg_switchover_target={asynchronous}")
    assert rc != 0
    assert f"Nothing was changed. {asynchronous} cannot take over cluster main" in said(out), tail(out)
    assert f"only {synchronous} holds every committed transaction" in said(out), tail(out)
    assert patroni_cluster.leader() == old

    with ThreadPoolExecutor(len(members)) as pool:
        list(pool.map(functools.partial(older_packages.one_version_behind, packages=OLDER_ON_MEMBERS), members))
    pending = {member: older_packages.upgrades_pending(member) for member in members}
    assert all(pending.values()), f"the Debian mirror offers one version of {OLDER_ON_MEMBERS}: {pending}"

    started = time.monotonic()
    out, took, writer, sampler = played_under_counted_writes(inventory, "patch", "--limit", "postgresql")
    new = patroni_cluster.current_leader()
    handed = re.findall(r"Switchover done: (\S+) leads cluster main", said(out))
    assert handed, tail(out)
    assert handed[0] != old, tail(out)
    assert handed[-1] == new, tail(out)
    assert len(handed) == 2 or f"{new} keeps leading cluster main" in said(out), tail(out)
    what = f"patroni: patch.yml on the {len(members)} members, switched over from {old} to {' then '.join(handed)}"
    figures.append(f"{summary(writer, sampler, patroni_cluster.drill_rows(new), what)}; playbook {took:.0f} s")
    pause = writer.longest_gap()
    assert pause < SWITCHOVER_BOUND, (
        f"writes paused {pause:.1f} s in a patch run\n{patroni_cluster.what_patroni_did(time.monotonic() - started)}"
    )
    pending = {member: older_packages.upgrades_pending(member) for member in members}
    assert not any(pending.values()), pending
    stale = {member: older_packages.still_on_replaced_code(member) for member in members}
    assert not any(stale.values()), f"services still on replaced code: {stale}"
    patroni_cluster.wait_until_the_floating_address_is_on(new)
    for member in members:
        if member != new:
            patroni_cluster.wait_until_replica_streams(member)
    figures.append(patroni_cluster.archive_checked_and_backed_up("the switchover and the patch run"))


# Patroni demotes a leader that cannot renew its lock (after loop_wait + retry_timeout, 10 + 10 s)
# before the lock expires (ttl, 30 s) and another member may take it: the bound is the ttl.
DEMOTION_BOUND = 30


@PATRONI
def test_a_primary_cut_off_from_the_others_stops_taking_writes_before_another_is_promoted(
    converged: str, figures: Figures
) -> None:
    old = patroni_cluster.current_leader()
    # Asked of the others: the cut-off member still answers the controller, from its own stale view.
    others = tuple(host for host in patroni_cluster.MEMBERS if host != old)
    writer, sampler = counted_writes_on_patroni()
    cut_at = time.monotonic()
    patroni_cluster.cut_off(old)
    try:
        deadline = cut_at + FAILOVER_BOUND + 30
        while not (
            writer.commit_times
            and writer.commit_times[-1] > cut_at + 1
            and patroni_cluster.leader(others) not in (None, old)
        ):
            assert time.monotonic() < deadline, f"no new leader took writes {FAILOVER_BOUND + 30} s after the cut"
            time.sleep(1)
        time.sleep(3)
        term_before_heal = patroni_cluster.etcd_term(others[0])
    finally:
        writer.stop()
        sampler.stop()
        patroni_cluster.heal(old)
    # The cut-off member's etcd called elections it could not win the whole time; with pre-vote its
    # raised term does not depose the majority's leader when it comes back.
    time.sleep(3)
    assert patroni_cluster.etcd_term(others[0]) == term_before_heal, "the healed member deposed etcd's leader"
    new = patroni_cluster.current_leader()
    figures.append(
        summary(writer, sampler, patroni_cluster.drill_rows(new), f"patroni: {old} cut off, {new} took over")
    )
    # The cut-off primary, still reached by the sampler, stopped taking writes within the bound.
    old_took_writes = [at for at, sample in zip(sampler.times, sampler.samples, strict=True) if old in sample]
    last = max(old_took_writes, default=cut_at) - cut_at
    figures.append(
        f"patroni: the cut-off primary took its last write {last:.1f} s after the cut (bound {DEMOTION_BOUND} s)"
    )
    assert last < DEMOTION_BOUND, f"{old} still took writes {last:.1f} s after it was cut off"
    patroni_cluster.wait_until_the_floating_address_is_on(new)
    patroni_cluster.wait_until_replica_streams(old)
    # The cut-off primary still reached the repository host the whole time, as a host whose link to
    # its peers failed may: whatever it archived before it stepped down must not break the archive.
    figures.append(patroni_cluster.archive_checked_and_backed_up("the cut-off"))


@PATRONI
def test_etcd_losing_one_member_changes_nothing_stops_a_patch_run_and_losing_two_keeps_the_primary_in_failsafe(
    converged: str, figures: Figures, tmp_path: Path
) -> None:
    inventory = ScenarioInventory(tmp_path, ROOT / "molecule" / "patroni" / "molecule.yml")
    leader = patroni_cluster.current_leader()
    others = [host for host in patroni_cluster.MEMBERS if host != leader]
    writer, sampler = counted_writes_on_patroni()
    try:
        on(others[0], "systemctl", "stop", "etcd")
        stopped_at = time.monotonic()
        # A patch run's gates find the member down and stop the run before any host changes.
        rc, out = inventory.playbook("patch", "--limit", "postgresql")
        time.sleep(max(0.0, 15 - (time.monotonic() - stopped_at)))
        one_down = writer.longest_gap()
        # Two of three down: etcd has no majority. With failsafe_mode the leader keeps writing while
        # it reaches every member's Patroni; it never steps down for a store it cannot read.
        on(others[1], "systemctl", "stop", "etcd")
        # Longer than the lock lives (ttl 30 s) and a cycle (loop_wait 10 s): without failsafe_mode the
        # leader would have stepped down by now.
        time.sleep(30 + 10 + 5)
        assert patroni_cluster.rest(leader, "/primary") is not None, "the leader stepped down"
    finally:
        for host in others:
            inside(host, "systemctl", "start", "--no-block", "etcd")
        writer.stop()
        sampler.stop()
    figures.append(
        summary(writer, sampler, patroni_cluster.drill_rows(leader), "patroni: etcd lost one member, then two")
    )
    figures.append(f"patroni: longest write pause with one etcd member down {one_down:.1f} s")
    assert rc != 0
    assert f"Nothing was changed. etcd on {others[0]} is not healthy in its cluster" in said(out), tail(out)
    assert changed_or_failed(out) == {others[0]: 0}, tail(out)
    assert one_down < 5, f"writes paused {one_down:.1f} s with one etcd member down"
    assert {sample for sample in sampler.samples if sample} == {(leader,)}, "the primary changed or vanished"
    assert patroni_cluster.leader() == leader
    # The leader never changed: the archive is checked after the next drill's failover.


# A manual failover through the collection's entry point (pg_failover.yml), where Patroni does not
# fail over itself: the cluster is paused for maintenance and the leader's PostgreSQL dies.
PATRONICTL = "patronictl -c /etc/patroni/*-main.yml"


@PATRONI
def test_pg_failover_promotes_the_synchronous_standby_of_a_paused_cluster_whose_leader_died(
    converged: str, figures: Figures, tmp_path: Path
) -> None:
    inventory = ScenarioInventory(tmp_path, ROOT / "molecule" / "patroni" / "molecule.yml")
    # etcd may still be regaining its majority after the drill above.
    roles = patroni_cluster.wait_until_roles({"leader", "sync_standby", "replica"})
    old = next(name for name, role in roles.items() if role == "leader")
    synchronous = next(name for name, role in roles.items() if role == "sync_standby")
    asynchronous = next(name for name, role in roles.items() if role == "replica")

    rc, out = inventory.playbook("pg_failover")
    assert rc != 0
    assert f"Nothing was changed. Cluster main cannot fail over to {synchronous}" in said(out), tail(out)
    assert f"{old} leads it and runs; a planned move is pg_switchover" in said(out), tail(out)

    on(old, "sh", "-c", f"{PATRONICTL} pause --wait")
    writer, sampler = counted_writes_on_patroni()
    try:
        # In a paused cluster Patroni neither restarts the dead server nor promotes another.
        on(old, "sh", "-c", "kill -KILL $(head -1 /var/lib/postgresql/*/main/postmaster.pid)")
        wait_for("Patroni to drop the dead leader's lock", lambda: patroni_cluster.leader() is None, 30)
        time.sleep(10)  # a loop (loop_wait) for Patroni to have promoted someone, were it not paused
        assert patroni_cluster.leader() is None, patroni_cluster.cluster()

        rc, out = inventory.playbook("pg_failover", "-e", f"pg_failover_target={asynchronous}")
        assert rc != 0
        assert f"only {synchronous} holds every committed transaction" in said(out), tail(out)
        assert patroni_cluster.leader() is None, patroni_cluster.cluster()

        started = time.monotonic()
        rc, out = inventory.playbook("pg_failover")
        took = time.monotonic() - started
        time.sleep(3)
    finally:
        writer.stop()
        sampler.stop()
        inside(old, "sh", "-c", f"{PATRONICTL} resume --wait")
    assert rc == 0, tail(out)
    assert warnings_in(out) == []
    assert f"Failover done: {synchronous} leads cluster main" in said(out), tail(out)
    assert "the cluster is paused: patronictl resume" in said(out), tail(out)
    present = patroni_cluster.drill_rows(synchronous)
    # A replica that replayed WAL the new leader never had is stopped by the entry point, for Patroni
    # to rewind it on resume (Patroni 3.0 itself would leave it waiting for WAL forever): it happens
    # when the dead leader's last WAL reached it (streamed or archived) and not the synchronous standby.
    stuck = " (a replica stuck short of the new leader was stopped for a rewind)"
    stopped = stuck if "had not replayed up to the new leader" in said(out) else ""
    figures.append(
        f"{summary(writer, sampler, present, f'patroni: pg_failover of a paused cluster to {synchronous}')}"
        f"; playbook {took:.1f} s{stopped}"
    )
    # Resumed, the old leader's Patroni starts it as a replica of the new one (pg_rewind).
    patroni_cluster.wait_until_the_floating_address_is_on(synchronous)
    patroni_cluster.wait_until_replica_streams(old)
    figures.append(patroni_cluster.archive_checked_and_backed_up("the manual failover"))


@PATRONI
def test_a_cluster_wide_setting_changed_in_etcd_by_hand_is_put_back_by_postgresql_yml(
    converged: str, tmp_path: Path
) -> None:
    # Patroni reads bootstrap.dcs once: only the role's comparison with etcd's copy keeps a changed
    # input (or a hand edit) from lasting. etcd may still be regaining its majority after the drill above.
    leader = patroni_cluster.current_leader()
    edit = "patronictl -c /etc/patroni/*-main.yml edit-config --set ttl=45 --force"
    deadline = time.monotonic() + 60
    while inside(leader, "sh", "-c", edit).returncode != 0:
        assert time.monotonic() < deadline, "patronictl edit-config failed for a minute"
        time.sleep(2)
    # A member's GET /config answers from the copy it read last, at most a loop (loop_wait, 10 s) ago.
    patroni_cluster.wait_until_config_holds(leader, "ttl", 45)

    inventory = ScenarioInventory(tmp_path, ROOT / "molecule" / "patroni" / "molecule.yml")
    rc, out = inventory.playbook("postgresql")
    assert rc == 0, tail(out)
    assert warnings_in(out) == []
    assert "Cluster main: the settings in etcd change by {ttl: 30}" in said(out), tail(out)
    patroni_cluster.wait_until_config_holds(leader, "ttl", 30)


@PATRONI
def test_a_client_rule_pgbouncer_would_skip_is_refused_before_anything_changes(converged: str, tmp_path: Path) -> None:
    # PgBouncer 1.18 skips a rule it cannot read and goes on with the next one: here the reject that keeps
    # the admins out of the app database would be skipped, and the next rule would let them in.
    rules = [
        {"users": "+admins", "databases": "app", "address": "10.89.180.0/24", "method": "reject"},
        {"users": "all", "databases": "app", "address": "10.89.180.0/24"},
    ]
    inventory = ScenarioInventory(tmp_path, ROOT / "molecule" / "patroni" / "molecule.yml")
    rc, out = inventory.playbook("haproxy", "-e", json.dumps({"postgresql_hba_entries": rules}))
    assert rc != 0
    assert "PgBouncer would skip these client rules" in said(out), tail(out)
    assert "rule 1: PgBouncer cannot read '+admins' in users" in said(out), tail(out)
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)
    for member in patroni_cluster.MEMBERS:
        assert "+admins" not in inside(member, "cat", "/etc/pgbouncer/hba.conf").stdout


# The spare host of molecule/patroni, made a fourth member last: the drills above run on three.
SPARE = "gw-ha4"


@PATRONI
def test_pg_add_replica_keeps_etcd_on_three_hosts_and_patroni_clones_a_fourth_member_under_writes(
    converged: str, figures: Figures, tmp_path: Path
) -> None:
    inventory = ScenarioInventory(tmp_path, ROOT / "molecule" / "patroni" / "molecule.yml")
    inventory.put(SPARE, "postgresql", "postgresql_replica")
    # etcd runs on the members by default: a fourth would make its majority three of four.
    rc, out = inventory.playbook("pg_add_replica", "-e", f"pg_add_replica_host={SPARE}")
    assert rc != 0
    assert "Patroni's etcd runs on its members (gw-ha1, gw-ha2, gw-ha3, gw-ha4); it needs an odd number" in said(out), (
        tail(out)
    )
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)

    for member in patroni_cluster.MEMBERS:
        inventory.put(member, "patroni_dcs")
    inventory.set_group_vars("postgresql", groundwork_pg_dcs_group="patroni_dcs")
    out, took, writer, sampler = played_under_counted_writes(
        inventory, "pg_add_replica", "-e", f"pg_add_replica_host={SPARE}"
    )
    leader = patroni_cluster.current_leader()
    present = patroni_cluster.drill_rows(leader)
    figures.append(f"{summary(writer, sampler, present, f'patroni: pg_add_replica {SPARE}')}; playbook {took:.0f} s")
    # The members reload pg_hba.conf and HAProxy; nothing of that stops a client. Under a loaded CI
    # machine once 7.6 s with the leader taking writes throughout: the message says what the writer met
    # and what keepalived and Patroni did, to tell a broken route from commits held by a standby.
    assert writer.longest_gap() < 3, patroni_cluster.why_writes_paused(
        writer, "a member was added", took + 5, (*patroni_cluster.MEMBERS, SPARE)
    ) + patroni_cluster.what_patroni_did(took + 5)

    # A member Patroni runs, on the leader's timeline, holding all the leader wrote.
    patroni_cluster.wait_until_replica_streams(SPARE, timeout=60)
    patroni_cluster.wait_until_replayed_past_the_leader(SPARE, leader)
    assert inside(SPARE, "systemctl", "is-enabled", "postgresql@15-main").stdout.strip() == "masked"
    patroni_cluster.wait_until_the_floating_address_is_on(leader)  # its keepalived too leaves it to the leader
    # Its HAProxy leads clients to the leader; its pgBackRest reaches the repository (archive-get, as a standby).
    with psycopg.connect(patroni_cluster.endpoint_conninfo(SPARE), autocommit=True) as client:
        assert client.execute("SELECT pg_is_in_recovery()").fetchone()[0] is False
    on(SPARE, "pgbackrest", f"--stanza={patroni_cluster.STANZA}", "check", user="postgres")
