"""The patch drill: playbooks/patch.yml on the lab, with packages older than the mirror's first.

The state: on the members and the repository host libssl3 and openssl, and on the members PostgreSQL's
server package, are behind the Debian mirror's newest version: those at it go back to the version just
below (bookworm's point release beside bookworm-security's update), with apt-get --allow-downgrades
--no-remove; pg3 gets /run/reboot-required, as a kernel's postinst leaves it. Then a failing gate stops the run before
any host changes (a replica stopped; a backup older than the bound), the dry run only reports, and the
patch run, under a counted writer, brings every host to the mirror's versions with one switchover's
pause and the same primary, each host with work silenced in Alertmanager meanwhile; a second run
changes nothing. The monitoring and restore hosts get no older
packages: a host with little or nothing to do is the common case, and every upgrade costs the suite's
two cores its time (they end up to date all the same: the drill checks every host).
"""

from __future__ import annotations

import datetime
import functools
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import lab
import older_packages
import psycopg
import pytest
from drills import both_replicas_stream_from, stop_all, writes_and_samples
from harness import Figures, changed_or_failed, project_env, said, tail, warnings_in
from lab import LabInventory, on, sql
from lab_prometheus import prometheus

pytestmark = pytest.mark.in_sequence

OLDER_ON_PATCHED = ("libssl3", "openssl")
OLDER_ON_MEMBERS = ("postgresql-15",)
REBOOTED = "pg3"
# The cluster (replicas, a switchover, the old primary) and one plain server patched in a batch.
PATCHED = (*lab.MEMBERS, lab.REPO)
# The inventory-driven switchover stops the primary cleanly, waits for the target to replay its
# shutdown checkpoint and promotes it: 11 s measured in the switchover drill. Each of the run's two
# switchovers is one such pause; nothing else in the run may stop writes.
SWITCHOVER_PAUSE_BOUND = 30


def make_older(env: dict[str, str], host: str) -> list[str]:
    """The host's packages of OLDER_ON_PATCHED (and on members OLDER_ON_MEMBERS) one version behind the
    mirror (tests/older_packages.py); the pins installed. PostgreSQL is stopped first as the role stops
    it: the package's prerm would `systemctl stop` it, which on cgroups v1 in a container can wait
    Debian's hour (lab.stop_postgresql)."""
    packages = OLDER_ON_PATCHED + (OLDER_ON_MEMBERS if host in lab.MEMBERS else ())
    pins = older_packages.older_pins(lab.PREFIX + host, packages)
    if pins and host in lab.MEMBERS:
        lab.stop_postgresql(env, host)
    if pins:
        older_packages.install(lab.PREFIX + host, pins)
    if host in lab.MEMBERS:
        on(host, "systemctl", "start", lab.PG_UNIT)
    return pins


def upgrades_pending(host: str) -> list[str]:
    return older_packages.upgrades_pending(lab.PREFIX + host)


def started_at(host: str) -> str:
    inspected = subprocess.run(
        ["podman", "inspect", "-f", "{{.State.StartedAt}}", lab.PREFIX + host],
        capture_output=True, text=True, check=True, env=project_env(),
    )  # fmt: skip
    return inspected.stdout.strip()


@pytest.fixture(scope="module")
def older(inventory: LabInventory) -> dict[str, list[str]]:
    with ThreadPoolExecutor(len(PATCHED)) as pool:
        changed = dict(zip(PATCHED, pool.map(functools.partial(make_older, inventory.env), PATCHED), strict=True))
    pending = {host: upgrades_pending(host) for host in PATCHED}
    assert all(pending.values()), (
        f"the Debian mirror offers one version of {OLDER_ON_PATCHED}: nothing to patch {pending}"
    )
    on(REBOOTED, "touch", "/run/reboot-required")
    with psycopg.connect(lab.app_conninfo(list(lab.MEMBERS)), autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS drill (id bigint PRIMARY KEY)")
    # A downgrade of PostgreSQL's package restarts the server (Debian's maintainer scripts).
    both_replicas_stream_from(inventory, lab.PRIMARY)
    return changed


def test_a_stopped_replica_stops_the_run_before_any_host_changes(inventory: LabInventory, older: dict) -> None:
    lab.stop_postgresql(inventory.env, "pg2")
    try:
        rc, out = inventory.playbook("patch")
    finally:
        on("pg2", "systemctl", "start", lab.PG_UNIT)
    assert rc != 0
    assert "Nothing was changed. PostgreSQL on pg2 does not answer" in said(out), tail(out)
    assert changed_or_failed(out) == {"pg2": 0}, tail(out)
    assert upgrades_pending("pg1"), "a host was patched"
    both_replicas_stream_from(inventory, lab.PRIMARY)


def test_a_backup_older_than_the_bound_stops_the_run_before_any_host_changes(inventory: LabInventory) -> None:
    # The lab's newest backup is hours old at most: a bound of none makes it too old.
    rc, out = inventory.playbook("patch", "-e", "patch_backup_max_age_hours=0")
    assert rc != 0
    assert "Nothing was changed. Cluster main's newest backup is" in said(out), tail(out)
    assert "older than patch_backup_max_age_hours (0 h) allows. Run groundwork.infra.backup_now first." in said(out)
    assert changed_or_failed(out) == {lab.PRIMARY: 0}, tail(out)


def test_the_dry_run_says_what_each_host_would_get_and_changes_nothing(inventory: LabInventory, older: dict) -> None:
    rc, out = inventory.playbook("patch", "-e", "patch_dry_run=true")
    assert rc == 0, tail(out)
    assert warnings_in(out) == []
    assert changed_or_failed(out) == {}, tail(out)
    candidate = on("pg2", "sh", "-c", "apt-cache policy postgresql-15 | awk '/Candidate/ {print $2}'")
    assert f"postgresql-15 {candidate}" in said(out), tail(out)
    assert "reboot: yes, a package asked for it (/run/reboot-required)" in said(out), tail(out)
    assert all(upgrades_pending(host) for host in PATCHED)


def test_the_patch_run_brings_every_host_up_to_date_with_one_switchovers_pause(
    inventory: LabInventory, older: dict, figures: Figures
) -> None:
    booted = started_at(REBOOTED)
    run_began = datetime.datetime.now(datetime.UTC)
    writer, sampler = writes_and_samples()
    started = time.monotonic()
    try:
        rc, out = inventory.playbook("patch")
        took = time.monotonic() - started
        time.sleep(2)
    finally:
        stop_all(writer, sampler)
    assert rc == 0, tail(out)
    assert warnings_in(out) == []
    present = lab.rows_on(lab.app_conninfo([lab.PRIMARY]))
    lost = sorted(set(writer.acknowledged) - present)
    assert lost == [], f"acknowledged commits lost: {lost[:20]}"
    assert sampler.split() == [], f"two members took writes at once: {sampler.split()[:5]}"
    first, last = writer.longest_gap_span()
    figures.append(
        f"patch run on the lab ({len(lab.LAB_HOSTS)} hosts, two switchovers): {took:.0f} s; longest write pause "
        f"{last - first:.1f} s (no member took writes for {sampler.seconds_without_primary(first, last):.1f} s of it); "
        f"{len(writer.acknowledged)} commits acknowledged, none lost"
    )
    assert last - first < SWITCHOVER_PAUSE_BOUND, f"writes paused {last - first:.1f} s"

    # Every host on the mirror's versions, nothing running replaced code, the same primary as before.
    pending = {host: upgrades_pending(host) for host in sorted(lab.LAB_HOSTS)}
    assert not any(pending.values()), pending
    stale = {host: older_packages.still_on_replaced_code(lab.PREFIX + host) for host in sorted(lab.LAB_HOSTS)}
    assert not any(stale.values()), f"services still on replaced code: {stale}"
    assert sql(lab.PRIMARY, "SELECT pg_is_in_recovery()") == "f"
    both_replicas_stream_from(inventory, lab.PRIMARY)
    candidate = on("pg1", "sh", "-c", "apt-cache policy postgresql-15 | awk '/Candidate/ {print $2}'")
    for member in lab.MEMBERS:
        assert candidate.startswith(sql(member, "SHOW server_version").split()[0]), member
    # Each host with work was silenced in Alertmanager for the run, and the silence ended with it.
    silences = [
        silence
        for silence in prometheus("/api/v2/silences", port=9093)
        if silence["comment"].startswith("groundwork.infra.patch is patching")
        and datetime.datetime.fromisoformat(silence["startsAt"]) >= run_began
    ]
    silenced = sorted(matcher["value"] for silence in silences for matcher in silence["matchers"])
    assert set(PATCHED) <= set(silenced), silenced
    assert len(silenced) == len(set(silenced)), f"a host silenced twice: {silenced}"
    assert {silence["status"]["state"] for silence in silences} == {"expired"}, silences
    # The host a package asked to reboot was restarted (a container's reboot) and asks no more.
    assert started_at(REBOOTED) != booted
    assert on(REBOOTED, "sh", "-c", "test -e /run/reboot-required && echo asked || echo done") == "done"


def test_a_second_run_changes_nothing(inventory: LabInventory) -> None:
    rc, out = inventory.playbook("patch")
    assert rc == 0, tail(out)
    assert warnings_in(out) == []
    assert changed_or_failed(out) == {}, tail(out)
