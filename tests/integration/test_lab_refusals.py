"""Runs that must be refused before any host changes, on a lab of their own that nothing converges.

On hosts with nothing installed, a guard that let a run through would show at once: the run
installs, writes and starts things, and the recap counts them. These runs change nothing, so they
share one lab (tests/integration/conftest.py: empty_lab_env) and run beside the converged lab's
chain rather than at its head.
"""

import json
import re

import pytest
from harness import ROOT, inside, recap, run, tail
from lab import EMPTY_PREFIX, LAB_HOSTS, playbook, playbook_with_extra_inventory


# What `scripts/lab up` makes of any lab, this one too: so they run here, beside the converged lab's chain.
def test_lab_status_shows_every_host_running(empty_lab_env):
    status = run([str(ROOT / "scripts" / "lab"), "status"], env=empty_lab_env)
    rows = {line.split()[0]: line.split() for line in status.stdout.splitlines()[1:]}
    assert set(rows) == LAB_HOSTS
    for host, row in rows.items():
        assert row[1] == "running", (host, row)
        assert row[2] in ("running", "degraded"), (host, row)


def test_the_lab_is_reached_over_ssh_as_its_admin(empty_lab_env):
    # As real hosts are: sshd, the admin's key, sudo; not `podman exec` as root.
    result = run(["ansible", "-i", str(ROOT / "inventories" / "lab"), "all", "-a", "id -un"], env=empty_lab_env)
    assert result.returncode == 0, tail(result.stdout + result.stderr)
    for host in LAB_HOSTS:
        assert f"{host} | CHANGED | rc=0 >>\nlabadmin\n" in result.stdout, result.stdout


def test_wrongly_typed_variable_fails_before_any_task(empty_lab_env):
    rc, out = playbook(empty_lab_env, "groundwork.infra.site", "--limit", "pg1", "-e", '{"server_admin_users": "bob"}')
    assert rc != 0
    assert "server_admin_users" in out
    assert "Validating arguments against arg spec" in out
    counters = recap(out)["pg1"]
    assert counters["changed"] == 0
    assert counters["failed"] == 1
    # Nothing but fact gathering ran before validation stopped the play.
    assert "TASK [groundwork.infra.server : Install base packages]" not in out


def test_a_play_on_the_controller_runs_with_the_lab_inventory(empty_lab_env):
    # restore.yml's first play checks the request on localhost, which gets the variables of `all`:
    # the lab's SSH settings, built from inventory_dir (undefined there), broke it before it began.
    rc, out = playbook(empty_lab_env, "groundwork.infra.restore")
    assert rc != 0
    assert "Name the host to restore onto, a host of the inventory" in out, tail(out)
    assert "inventory_dir" not in out, tail(out)


# Each bad inventory is the lab's plus one small file; the preflight play must stop it before any
# host changes.
BAD_INVENTORIES = {
    "two primaries": (
        {"all": {"children": {"postgresql_primary": {"hosts": {"pg2": {}}}}}},
        "cluster main has 2 primaries (pg1, pg2); exactly one is allowed",
    ),
    "a replica whose cluster has no primary": (
        {"all": {"hosts": {"pg3": {"groundwork_pg_cluster": "reporting"}}}},
        "cluster reporting has no primary; its replicas pg3 need one",
    ),
    "members that disagree on who fails the cluster over": (
        {"all": {"hosts": {"pg1": {"groundwork_pg_ha": "patroni"}}}},
        "cluster main: its members disagree on groundwork_pg_ha (inventory: pg2, pg3; patroni: pg1); set it once",
    ),
    "a wrongly typed variable": (
        {"all": {"vars": {"postgresql_synchronous_quorum": "two"}}},
        "postgresql_synchronous_quorum",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INVENTORIES))
def test_bad_postgresql_inventory_fails_in_preflight(empty_lab_env, tmp_path, case):
    extra, message = BAD_INVENTORIES[case]
    rc, out = playbook_with_extra_inventory(empty_lab_env, tmp_path, extra, "groundwork.infra.postgresql")
    assert rc != 0
    assert message in out, tail(out)
    assert "PLAY [Check the PostgreSQL inventory before any host changes]" in out
    assert "PLAY [Configure the primaries]" not in out
    assert {host: c["changed"] for host, c in recap(out).items() if c["changed"]} == {}


def test_pg_failover_with_several_clusters_refuses_until_told_which(empty_lab_env, tmp_path):
    # A second cluster (restore1 its primary, in the inventory only): pg_failover without
    # pg_failover_cluster must not pick one, and names them before anything changes.
    second = {"restore1": {"groundwork_pg_cluster": "reporting"}}
    extra = {"all": {"children": {"postgresql_primary": {"hosts": second}}}}
    rc, out = playbook_with_extra_inventory(empty_lab_env, tmp_path, extra, "groundwork.infra.pg_failover")
    assert rc != 0
    flat = " ".join(out.split())  # the message as one line, however the callback wrapped it
    named = re.search(r"The inventory has clusters (.+?); name the one to fail over", flat)
    assert named, tail(out)
    assert sorted(named[1].split(", ")) == ["main", "reporting"]
    assert "(postgresql_failover_cluster, -e pg_failover_cluster=NAME); got none. Nothing was changed." in flat
    assert {host: c["changed"] for host, c in recap(out).items() if c["changed"]} == {}


BAD_INPUTS = {
    "hba-without-users": (
        {"postgresql_hba_entries": [{"databases": "app", "address": "10.0.0.0/8"}]},
        "postgresql_hba_entries",
    ),
    "hba-trust-from-anywhere": (
        {"postgresql_hba_entries": [{"users": "app", "address": "0.0.0.0/0", "method": "trust", "comment": "oops"}]},
        "rule 1 (oops) lets app in without a password (method trust); rule 1 (oops) is open to every address",
    ),
    "hba-without-tls": (
        {"postgresql_hba_entries": [{"contype": "host", "users": "app", "address": "10.0.0.0/8"}]},
        "rule 1 accepts connections without TLS",
    ),
    "user-name-with-a-space": (
        {"postgresql_users": [{"name": "app user", "password": "not-shown-anywhere-1"}]},
        'name "app user": a name here must be',
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_by_name_before_any_host_changes(empty_lab_env, case):
    extra, message = BAD_INPUTS[case]
    rc, out = playbook(empty_lab_env, "groundwork.infra.postgresql", "-e", json.dumps(extra))
    assert rc != 0
    assert message in " ".join(out.split()), tail(out)
    assert "not-shown-anywhere-1" not in out, "a password must never be printed"
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)


@pytest.mark.parametrize(
    ("name", "extra", "message"),
    [
        ("pg_failover", "pg_failover_cluster=mian", "got mian. Nothing was changed."),
        ("pg_rejoin", "pg_rejoin_host=pg9", "pg9 is not in postgresql_replica."),
    ],
    ids=["failover-cluster", "rejoin-host"],
)
def test_a_misspelled_name_fails_the_run_instead_of_doing_nothing(empty_lab_env, name, extra, message):
    # A typo must not give a green run that changed nothing: the operator would believe it done.
    rc, out = playbook(empty_lab_env, f"groundwork.infra.{name}", "-e", extra)
    assert rc != 0
    assert message in " ".join(out.split()), tail(out)
    assert {host: c["changed"] for host, c in recap(out).items() if c["changed"]} == {}


def test_a_bad_monitoring_input_is_refused_before_any_exporter_is_installed(empty_lab_env):
    # The receivers may hold secrets: the message names them, never their settings.
    receivers = [{"name": "pager", "webhook_configs": [{"url": "https://hooks.example/secret-token"}]}]
    extra = {"monitoring_alertmanager_receivers": receivers, "monitoring_alertmanager_default_receiver": "oncall",
             "groundwork_monitoring_password": "refusal-not-secret"}  # fmt: skip
    rc, out = playbook(empty_lab_env, "groundwork.infra.monitoring", "-e", json.dumps(extra))
    assert rc != 0
    assert "monitoring_alertmanager_default_receiver (oncall)" in " ".join(out.split()), tail(out)
    assert "secret-token" not in out
    assert "TASK [groundwork.infra.exporters" not in out
    assert all(counters["changed"] == 0 for counters in recap(out).values()), recap(out)


def test_a_schedule_systemd_cannot_read_is_refused_before_the_host_changes(empty_lab_env):
    # A timer whose OnCalendar systemd cannot read never runs, and says so only in the journal.
    schedules = {"hardening_chkrootkit_schedule": "every second tuesday", "hardening_aide_check_schedule": "03:30"}
    rc, out = playbook(empty_lab_env, "groundwork.infra.hardening", "--limit", "restore1", "-e", json.dumps(schedules))
    assert rc != 0
    flat = " ".join(out.split())
    assert 'Nothing was changed on restore1: systemd cannot read "every second tuesday"' in flat, tail(out)
    assert "(hardening_chkrootkit_schedule; see systemd.time(7))" in flat, tail(out)
    assert recap(out)["restore1"]["changed"] == 0


@pytest.mark.parametrize("playbook_name", ["groundwork.infra.postgresql", "groundwork.infra.backup"])
def test_a_cluster_name_that_would_reach_a_shell_is_refused_before_any_host_changes(empty_lab_env, playbook_name):
    # The name is the pgBackRest stanza in archive_command, which PostgreSQL runs through /bin/sh.
    hostile = "main$(touch /tmp/groundwork-hostile-cluster)"
    rc, out = playbook(empty_lab_env, playbook_name, "-e", json.dumps({"groundwork_pg_cluster": hostile}))
    assert rc != 0
    assert repr(hostile) in out or json.dumps(hostile) in out, tail(out)
    assert "lower-case letters, digits, '_' and '-'" in out, tail(out)
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)
    for host in ("pg1", "pg2", "pg3"):
        assert inside(EMPTY_PREFIX + host, "test", "-e", "/tmp/groundwork-hostile-cluster").returncode == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"hardening_firewall_admin_networks": ["192.0.2.0/24"]}, "which the new firewall would not let SSH in from"),
        ({"hardening_ssh_allow_groups": ["wheel"]}, "this run logs in as labadmin (groups:"),
    ],
    ids=["controller-outside-admin-networks", "admin-not-in-allowgroups"],
)
def test_hardening_refuses_to_shut_this_run_out(empty_lab_env, extra, message):
    rc, out = playbook(empty_lab_env, "groundwork.infra.hardening", "-e", json.dumps(extra))
    assert rc != 0
    assert message in " ".join(out.split()), tail(out)
    assert "Nothing was changed on pg3" in out
    assert all(counts["changed"] == 0 for counts in recap(out).values()), tail(out)
