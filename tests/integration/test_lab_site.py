"""site.yml end to end on a lab of its own, the way an operator runs it.

The suite's lab (tests/integration/conftest.py) uses GROUNDWORK_LAB_PREFIX, so an operator's lab on
the same machine is never touched, and a fact cache of its own, so neither sees the other's hosts.
"""

import ipaddress
import json
import re
import shlex
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml
from harness import ROOT, inside, recap, run, tail, warnings_in
from lab import LAB_HOSTS, PAUSED, PREFIX, address, playbook, stop_postgresql


def test_inventory_groups_are_the_documented_contract():
    listed = run(["ansible-inventory", "-i", str(ROOT / "inventories" / "lab"), "--list"])
    groups = json.loads(listed.stdout)
    assert groups["servers"]["children"] == [
        "postgresql", "backup_repository", "restore_targets", "monitoring", "log_collector"
    ]  # fmt: skip
    assert set(groups["postgresql"]["children"]) == {"postgresql_primary", "postgresql_replica"}
    assert groups["postgresql_primary"]["hosts"] == ["pg1"]
    assert set(groups["postgresql_replica"]["hosts"]) == {"pg2", "pg3"}
    assert groups["backup_repository"]["hosts"] == ["backup1"]
    assert groups["restore_targets"]["hosts"] == ["restore1"]
    assert groups["monitoring"]["hosts"] == ["mon1"]
    assert groups["log_collector"]["hosts"] == ["mon1"]


def test_site_first_run_configures_every_host(site_output):
    rc, out = site_output["rc"], site_output["out"]
    assert rc == 0, tail(out)
    counters = recap(out)
    assert set(counters) == LAB_HOSTS
    assert all(c["changed"] > 0 and c["failed"] == 0 for c in counters.values()), counters
    assert warnings_in(out) == []


def test_lab_cluster_streams_to_both_replicas_over_tls(lab_env):
    result = run(
        ["ansible", "-i", str(ROOT / "inventories" / "lab"), "pg1", "-b", "--become-user", "postgres", "-o",
         "-m", "groundwork.infra.pg_replication_info", "-a", "wait=true min_replicas=2"],
        env=lab_env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    state = json.loads(result.stdout.split("=>", 1)[1])
    assert state["role"] == "primary"
    assert sorted((r["application_name"], r["state"], r["ssl"]) for r in state["replicas"]) == [
        ("gw_pg2", "streaming", True),
        ("gw_pg3", "streaming", True),
    ]
    slots = sorted((slot["slot_name"], slot["active"]) for slot in state["slots"])
    assert slots == [("gw_pg2", True), ("gw_pg3", True)]


def test_lab_backups_reach_the_repository_host(lab_env):
    # site.yml ends with backup.yml: the stanza exists, holds the first full backup, and the
    # primary's WAL arrives (the first run's pgbackrest check proves it; the counter must stay at 0).
    result = run(
        ["ansible", "-i", str(ROOT / "inventories" / "lab"), "backup1", "-b", "--become-user", "pgbackrest", "-o",
         "-m", "groundwork.infra.pgbackrest_info", "-a", "stanza=main"],
        env=lab_env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    stanza = json.loads(result.stdout.split("=>", 1)[1])["stanza"]
    assert (stanza["ok"], stanza["cipher"], stanza["postgresql_version"]) == (True, "aes-256-cbc", "15")
    assert stanza["backups"][0]["type"] == "full"
    assert stanza["archive_max"] >= stanza["backups"][0]["wal_stop"]
    query = "SELECT archived_count > 0, failed_count FROM pg_stat_archiver"
    archiver = inside(PREFIX + "pg1", "psql", "-XAtc", query, user="postgres")
    assert archiver.stdout.strip() == "t|0", archiver.stdout + archiver.stderr


def test_no_unit_failed_on_the_converged_lab(lab_env):
    # So that "degraded" means something: auditd, which the hardening role enables, is kept from
    # starting in a container (it may not configure the host kernel's audit there).
    for host in LAB_HOSTS:
        failed = inside(PREFIX + host, "systemctl", "--failed", "--no-legend", "--plain")
        assert failed.returncode == 0, (host, failed.stderr)
        assert failed.stdout.strip() == "", (host, failed.stdout)


AIDE_CHECK = "groundwork-aide-check.service"


def test_aide_finds_nothing_changed_on_the_converged_lab(lab_env):
    # Every kind of host (a primary, a replica, the repository, the restore and the monitoring host;
    # pg3 is a replica as pg2 is), after site.yml and the backups of the hours above: what the roles
    # and their daemons change by design is outside AIDE's rules, so its daily check passes. One run
    # per host, side by side (each reads the whole disk).
    def check(host: str) -> str:
        if inside(PREFIX + host, "systemctl", "start", AIDE_CHECK, timeout=600).returncode == 0:
            return ""
        journal = inside(PREFIX + host, "journalctl", "-u", AIDE_CHECK, "-o", "cat", "-n", "60")
        return f"{host}: AIDE's daily check found changes\n{journal.stdout}"

    kinds = sorted(LAB_HOSTS - {"pg3"})
    with ThreadPoolExecutor(max_workers=len(kinds)) as pool:
        findings = [report for report in pool.map(check, kinds) if report]
    assert findings == [], "\n".join(findings)


def test_an_unknown_timezone_is_refused_before_the_host_changes(lab_env):
    # The zone is looked up in the target's own zoneinfo before /etc/localtime points at it
    # (file_modes refuses a link to nothing) and before /etc/timezone names it.
    before = inside(PREFIX + "pg1", "readlink", "/etc/localtime").stdout
    rc, out = playbook(lab_env, "groundwork.infra.server", "--limit", "pg1", "-e", "server_timezone=Mars/Olympus")
    assert rc != 0
    refused = "/etc/localtime: /usr/share/zoneinfo/Mars/Olympus does not exist, so no link to it was made"
    assert refused in out, tail(out)
    assert recap(out)["pg1"]["changed"] == 0
    assert inside(PREFIX + "pg1", "cat", "/etc/timezone").stdout != "Mars/Olympus\n"
    assert inside(PREFIX + "pg1", "readlink", "/etc/localtime").stdout == before


def test_the_jail_is_checked_by_fail2ban_on_a_copy_before_it_is_installed(lab_env):
    """jail.local's check (config_files' validate) passes the jail the role installed and refuses one that
    names a filter fail2ban does not have; it checks a copy of /etc/fail2ban, never the real one."""
    files = yaml.safe_load((ROOT / "roles" / "hardening" / "tasks" / "configure.yml").read_text())[0]
    validate = next(
        entry["validate"]
        for entry in files["groundwork.infra.config_files"]["files"]
        if entry["path"] == "/etc/fail2ban/jail.local"
    )
    host = PREFIX + "pg1"
    inside(host, "sh", "-c", "printf '[sshd]\\nenabled = true\\nfilter = no-such-filter\\n' > /tmp/jail-bad.local")
    before = inside(host, "sha256sum", "/etc/fail2ban/jail.local").stdout
    good = inside(host, *shlex.split(validate % "/etc/fail2ban/jail.local"))
    bad = inside(host, *shlex.split(validate % "/tmp/jail-bad.local"))
    assert good.returncode == 0, good.stdout + good.stderr
    assert bad.returncode != 0, bad.stdout + bad.stderr
    assert "no-such-filter" in bad.stdout + bad.stderr
    assert inside(host, "sha256sum", "/etc/fail2ban/jail.local").stdout == before


def test_lab_admin_can_sudo_on_every_host(lab_env):
    for host in LAB_HOSTS:
        out = inside(PREFIX + host, "sudo", "-n", "id", "-un", user="labadmin")
        assert out.stdout.strip() == "root", (host, out.stderr)


def test_hardened_lab_takes_backups_through_its_firewall(lab_env):
    # site.yml hardens last: a backup now, and WAL pushed now, must pass the nftables rules made
    # for database and repository hosts (the lab's admin network is this machine alone).
    rules = inside(PREFIX + "backup1", "nft", "list", "table", "inet", "groundwork")
    assert "policy drop" in rules.stdout, rules.stdout + rules.stderr
    rc, out = playbook(lab_env, "groundwork.infra.backup_now", "-e", "pgbackrest_backup_type=incr")
    assert rc == 0, tail(out)
    check = inside(PREFIX + "pg1", "pgbackrest", "--stanza=main", "check", user="postgres")
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize(
    "command",
    ["pgbackrest --stanza=other stanza-delete", "pgbackrest --stanza=main --force stanza-delete:remote", "id"],
)
def test_a_database_host_cannot_run_what_it_likes_on_the_repository(lab_env, command):
    # pg1's postgres holds a key the repository host accepts: it may open the remotes WAL archiving and
    # restores need, for its own stanza, and nothing else (roles/pgbackrest/files/pgbackrest-gate.py).
    result = inside(
        PREFIX + "pg1", "ssh", "-o", "BatchMode=yes", f"pgbackrest@{address('backup1')}", command, user="postgres"
    )
    assert result.returncode != 0
    assert "pgbackrest-gate: refused" in result.stderr, result.stdout + result.stderr
    info = inside(PREFIX + "backup1", "pgbackrest", "--stanza=main", "info", user="pgbackrest")
    assert "status: ok" in info.stdout, info.stdout + info.stderr


def test_the_backup_play_removes_keys_of_hosts_no_longer_in_the_inventory(lab_env):
    # A key the repository host once accepted (a restore target since removed, a replaced host) must not
    # outlive the host: the backup play writes the whole authorized_keys of pgBackRest's users.
    stale = (
        'restrict,command="/usr/bin/pgbackrest ${SSH_ORIGINAL_COMMAND#* }" ssh-ed25519 '
        "AAAAC3NzaC1lZDI1NTE5AAAAIBm1b0LdO8Fh8mRl0bF0tS9aH2bqv6y9sXk0b1cUu0Xz pgbackrest@gone1"
    )
    keys = "/home/pgbackrest/.ssh/authorized_keys"
    appended = inside(PREFIX + "backup1", "sh", "-c", f"echo '{stale}' >> {keys}")
    assert appended.returncode == 0, appended.stderr
    rc, out = playbook(lab_env, "groundwork.infra.backup", *PAUSED)
    assert rc == 0, tail(out)
    left = inside(PREFIX + "backup1", "cat", keys).stdout
    assert "pgbackrest@gone1" not in left
    assert sorted(re.findall(r"pgbackrest@(\w+)$", left, re.MULTILINE)) == ["pg1", "pg2", "pg3"]


def pg_rule(host, lab_env):
    """The firewall's PostgreSQL rule on a host, as nft lists it."""
    rules = inside(PREFIX + host, "nft", "list", "table", "inet", "groundwork").stdout
    return next((line for line in rules.splitlines() if '"PostgreSQL"' in line), "")


def admits(rule, address):
    """Whether an nft rule's source set holds an address (nft lists neighbours as a range a-b)."""
    match = re.search(r"saddr (?:\{ (.+?) \}|(\S+))", rule)
    if not match:
        return False
    wanted = ipaddress.ip_address(address)
    for element in (match[1] or match[2]).split(", "):
        low, _, high = element.partition("-")
        if "/" in low:
            if wanted in ipaddress.ip_network(low, strict=False):
                return True
        elif ipaddress.ip_address(low) <= wanted <= ipaddress.ip_address(high or low):
            return True
    return False


def test_the_firewall_lets_the_cluster_in_when_no_cluster_name_is_set(lab_env, tmp_path):
    # Without groundwork_pg_cluster every role takes the default cluster, main, and so must the
    # firewall: a replica that reconnects (a restart) must get through to its primary.
    inventory = tmp_path / "inventories" / "lab"
    shutil.copytree(ROOT / "inventories" / "lab", inventory)
    (tmp_path / ".cache").symlink_to(ROOT / ".cache")  # the lab's key and ssh_config, by the same relative path
    all_vars = inventory / "group_vars" / "all.yml"
    all_vars.write_text(all_vars.read_text().replace("groundwork_pg_cluster: main\n", ""))
    assert "groundwork_pg_cluster" not in all_vars.read_text()
    try:
        result = run(
            # Only the members' rules are judged here; the other hosts keep theirs.
            ["ansible-playbook", "-i", str(inventory), "groundwork.infra.hardening", "--limit", "postgresql"],
            env=lab_env,
            timeout=1800,
        )
        assert result.returncode == 0, tail(result.stdout + result.stderr)
        for host in ("pg1", "pg2", "pg3"):
            rule = pg_rule(host, lab_env)
            peers = [address(peer) for peer in ("pg1", "pg2", "pg3") if peer != host]
            assert all(admits(rule, peer) for peer in peers), (host, rule)
        stop_postgresql(lab_env, "pg2")
        start = inside(PREFIX + "pg2", "systemctl", "start", "postgresql@15-main")
        assert start.returncode == 0, start.stderr
        streaming = run(
            ["ansible", "-i", str(ROOT / "inventories" / "lab"), "pg1", "-b", "--become-user", "postgres", "-o",
             "-m", "groundwork.infra.pg_replication_info", "-a", "wait=true min_replicas=2 timeout=60"],
            env=lab_env,
        )  # fmt: skip
        assert streaming.returncode == 0, "pg2 did not stream again after a restart: " + streaming.stdout
    except AssertionError:
        # Put the lab's own firewall back for the tests after this one, then report.
        playbook(lab_env, "groundwork.infra.hardening")
        raise


def test_hardened_lab_lets_the_admin_in_with_a_key(lab_env):
    # AllowGroups, the firewall (admin network = this machine) and fail2ban all let labadmin in.
    key = ROOT / ".cache" / "lab" / "id_ed25519"
    for host in LAB_HOSTS:
        login = run(
            ["ssh", "-F", "/dev/null", "-i", str(key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10",
             f"labadmin@{address(host)}", "id", "-un"],
            env=lab_env, timeout=60,
        )  # fmt: skip
        assert login.stdout.strip() == "labadmin", (host, login.stderr)


def test_backups_are_refused_with_the_reason_when_a_member_does_not_answer(lab_env):
    # pgBackRest's configuration is built from what each member's server says (its data directory,
    # port, socket): a member whose server is down stops the play with psql's own words.
    stop_postgresql(lab_env, "pg3")
    try:
        rc, out = playbook(lab_env, "groundwork.infra.backup", *PAUSED)
    finally:
        assert inside(PREFIX + "pg3", "systemctl", "start", "postgresql@15-main").returncode == 0
    assert rc != 0
    assert "PostgreSQL does not answer on port 5432 of pg3 (psql: error: connection to server" in out, tail(out)
    assert recap(out)["pg3"]["changed"] == 0, tail(out)
