"""The suite's lab: its hosts, how to reach them, and the tools its drills use.

The suite's lab is `scripts/lab up` with GROUNDWORK_LAB_PREFIX, so an operator's lab on the same
machine is never touched. The drills run the collection's playbooks on it the way an operator runs
them: with an inventory they edit after each switchover or failover (`LabInventory`).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import harness
import psycopg
import yaml
from harness import ROOT, inside, project_env, run, wait_for

PREFIX = "gwtest-"
# A second lab, never converged, for the runs that must be refused before any host changes: on hosts
# with nothing installed, any change a guard let through shows in the recap. Its checks run beside
# the converged lab's chain (another pytest-xdist worker) rather than at its head.
EMPTY_PREFIX = "gwempty-"
INVENTORY = ROOT / "inventories" / "lab"
LAB_HOSTS = {"pg1", "pg2", "pg3", "backup1", "restore1", "mon1"}
MEMBERS = ("pg1", "pg2", "pg3")
PRIMARY, REPO, RESTORE = "pg1", "backup1", "restore1"
STANDBYS = ("pg2", "pg3")
WAL_SEGMENT = 16 * 1024 * 1024
# The members' PostgreSQL: Debian 12's version, in Debian's cluster "main".
PG_VERSION, PG_UNIT = "15", "postgresql@15-main"
# Real timers, far in the future: no scheduled backup may start in the middle of the suite's checks
# and drills. Every site.yml, backup.yml and pg_add_replica.yml run on the suite's lab passes them, as an operator
# pausing schedules for maintenance would.
FAR_SCHEDULES = {"full": "2099-01-04 01:00:00", "diff": "2099-01-05 01:00:00", "incr": "2099-01-05 02:30:00"}
PAUSED = ["-e", json.dumps({"pgbackrest_schedules": FAR_SCHEDULES})]
# The lab's own values (inventories/lab/group_vars/postgresql.yml).
APP_PASSWORD = yaml.safe_load((INVENTORY / "group_vars" / "postgresql.yml").read_text())["postgresql_users"][0][
    "password"
]


def environment(facts: Path, prefix: str = PREFIX) -> dict[str, str]:
    """What reaches one of the suite's labs, with a fact cache of its own.

    The converged lab's modules run one after another on one worker and take longest of all: its
    hosts get four times a Molecule instance's CPU weight (scripts/lab), so the other worker's
    scenarios use what the lab leaves rather than stretching the run's critical path.
    """
    weight = {"GROUNDWORK_LAB_CPU_SHARES": "4096"} if prefix == PREFIX else {}
    return project_env(GROUNDWORK_LAB_PREFIX=prefix, ANSIBLE_CACHE_PLUGIN_CONNECTION=str(facts), **weight)


def playbook(env: dict[str, str], *args: str) -> tuple[int, str]:
    """A playbook on the lab's inventory (the lab `env` reaches): exit code and output."""
    result = run(["ansible-playbook", "-i", str(INVENTORY), *args], env=env, timeout=1800)
    return result.returncode, result.stdout + result.stderr


def playbook_with_extra_inventory(env: dict[str, str], tmp_path: Path, extra: dict, name: str) -> tuple[int, str]:
    """A playbook on the lab's inventory plus one small file: exit code and output."""
    (tmp_path / "extra.yml").write_text(json.dumps(extra))
    return playbook(env, name, "-i", str(tmp_path / "extra.yml"))


class LabInventory:
    """The lab's inventory with a chosen primary, as the operator edits it after a switchover.

    It lives two levels under the repository, as inventories/lab does, and shares its group_vars,
    so every path the lab's variables build from `inventory_dir` still holds.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.path = ROOT / ".cache" / f"{PREFIX}inventory"
        self.path.mkdir(parents=True, exist_ok=True)
        group_vars = self.path / "group_vars"
        if not group_vars.exists():
            group_vars.symlink_to(INVENTORY / "group_vars")
        self.lab = yaml.safe_load((INVENTORY / "hosts.yml").read_text())

    def write(self, primary: str) -> Path:
        inventory = json.loads(json.dumps(self.lab))
        tiers = inventory["all"]["children"]["servers"]["children"]["postgresql"]["children"]
        hosts = {**tiers["postgresql_primary"]["hosts"], **tiers["postgresql_replica"]["hosts"]}
        tiers["postgresql_primary"]["hosts"] = {primary: hosts[primary]}
        tiers["postgresql_replica"]["hosts"] = {name: hosts[name] for name in sorted(hosts) if name != primary}
        (self.path / "hosts.yml").write_text(yaml.safe_dump(inventory))
        return self.path

    def playbook(self, name: str, *args: str) -> tuple[int, str]:
        # No drill's playbook takes a quarter of this; a hang shows where it hung (harness.run).
        result = run(
            ["ansible-playbook", "-i", str(self.path), f"groundwork.infra.{name}", *args], env=self.env, timeout=900
        )
        return result.returncode, result.stdout + result.stderr

    def module(self, host: str, module: str, arguments: str, *options: str) -> tuple[int, dict]:
        """An ad-hoc module run as the repository user; its result as a dict."""
        become = ["-b", "--become-user", "pgbackrest"]
        result = run(
            ["ansible", "-i", str(self.path), host, *become, "-m", module, "-a", arguments, *options],
            env={**self.env, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"},
        )
        # profile_tasks (ansible.cfg) prints lines before and after the JSON document.
        plays = json.JSONDecoder().raw_decode(result.stdout[result.stdout.index("{") :])[0]["plays"]
        return result.returncode, plays[0]["tasks"][0]["hosts"][host]


def packages(host: str) -> set[str]:
    """A lab host's packages: name=version and dpkg's status, one entry each."""
    return set(on(host, "dpkg-query", "--show", "--showformat=${Package}=${Version} ${db:Status-Abbrev}\n").split("\n"))


def on(host: str, *command: str, user: str = "root") -> str:
    """stdout of a command on a lab host (fails the test when it fails)."""
    return harness.on(PREFIX + host, *command, user=user)


def sql(host: str, query: str, database: str = "postgres") -> str:
    return harness.sql(PREFIX + host, query, database)


def container(action: str, host: str) -> None:
    """podman stop/start/restart/kill of a lab host; after a start, wait until systemd has booted."""
    subprocess.run(["podman", action, PREFIX + host], check=True, capture_output=True, env=project_env())
    if action in ("start", "restart"):
        # Three minutes: mon1 (Prometheus, Alertmanager, rsyslog's queues) once took more than one to
        # boot while the other worker's scenario had both cores.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            state = inside(PREFIX + host, "systemctl", "is-system-running").stdout.strip()
            if state in ("running", "degraded"):
                return
            time.sleep(0.5)
        jobs = inside(PREFIX + host, "systemctl", "list-jobs", "--no-pager").stdout
        raise AssertionError(f"{host} did not finish booting within 180 s; systemd's jobs then:\n{jobs}")


def cut_off(host: str, to: str, port: int) -> None:
    """Drop what `host` sends to `to` on `port` (a partition seen from one side); `heal(host)` ends it."""
    on(host, "nft", "add table inet drill")
    on(host, "nft", "add chain inet drill cut { type filter hook output priority 0 ; }")
    on(host, "nft", f"add rule inet drill cut ip daddr {address(to)} tcp dport {port} drop")


def heal(host: str) -> None:
    on(host, "nft", "delete table inet drill")


def stop_postgresql(env: dict[str, str], host: str) -> None:
    """PostgreSQL on `host` stopped as the role stops it: the collection's postgresql_stop module.

    Not `systemctl stop`: on cgroups v1 in a container, systemd may miss the last process of the unit
    leaving (see outlive_postgresql_in_its_unit), and the stop then waits out Debian's hour; a CI run
    lost a drill and the rest of its chain so. The module waits for PostgreSQL itself, then releases
    such a unit.
    """
    arguments = f"unit={PG_UNIT} version={PG_VERSION} timeout=120"
    stopped = run(
        ["ansible", "-i", str(INVENTORY), host, "-b", "-o", "-m", "groundwork.infra.postgresql_stop", "-a", arguments],
        env=env,
    )
    assert stopped.returncode == 0, f"PostgreSQL on {host} did not stop: {stopped.stdout}{stopped.stderr}"


def crash_postgresql(host: str) -> None:
    """PostgreSQL on `host` dies at once, every process of its unit killed, as in a crash.

    No shutdown runs: no checkpoint, no last WAL switch, nothing more archived. Not `pg_ctlcluster
    stop --mode immediate`: run as root it hands the stop to systemctl, whose unit stops in fast
    mode whatever the mode said, and a fast shutdown waits for the archiver. A CI run saw it so,
    with the repository cut off, the syslogger outliving the postmaster, and the unit left
    "deactivating" for Debian's hour (see outlive_postgresql_in_its_unit). The unit ends failed,
    and is reset.
    """
    unit = PG_UNIT
    on(host, "systemctl", "kill", "--signal=SIGKILL", unit)

    def stopped() -> bool:
        return inside(PREFIX + host, "systemctl", "is-active", unit).stdout.strip() in ("inactive", "failed")

    # Every process died at once, so systemd should see the unit empty; if it misses that, the
    # remedy is postgresql_stop's: daemon-reload makes it look at the unit's cgroup again.
    try:
        wait_for(f"{unit} on {host} to stop", stopped, timeout=10, interval=0.5)
    except AssertionError:
        on(host, "systemctl", "daemon-reload")
        wait_for(f"{unit} on {host} to stop after a daemon-reload", stopped, timeout=10, interval=0.5)
    on(host, "systemctl", "reset-failed", unit)


def outlive_postgresql_in_its_unit(host: str) -> None:
    """Put a process in PostgreSQL's unit that outlives the postmaster by 3 s, deaf to systemd's SIGTERM.

    systemd did not start it, so on cgroups v1 in a container nothing tells systemd when it exits:
    the unit stays "deactivating" with no process left, as a CI run saw (a stop job waiting out
    Debian's hour). podman exec's processes are children of conmon, outside the container. It is one
    process with no children: a child orphaned by its death would be reaped by systemd (PID 1), and
    that reaping makes systemd look at the unit again, which hid the fault on one CI run.
    It leaves on its own, 3 s after the postmaster's pid file is gone: while the postmaster and the
    stop command exit (each exit makes systemd look at the unit) it is still there, so systemd
    waits; it is gone before postgresql_stop's release_wait (5 s) ends, so only systemd's not
    noticing keeps the unit stopping. Ended at once by the SIGTERM, it raced those exits, and a CI
    run saw systemd notice.
    """
    unit = PG_UNIT
    cgroup = on(host, "systemctl", "show", "--property=ControlGroup", "--value", unit).strip()
    procs = f"/sys/fs/cgroup/systemd{cgroup}/cgroup.procs"
    outliver = (
        "import os, signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({procs!r}, 'w').write(str(os.getpid()))\n"
        "while os.path.exists('/var/lib/postgresql/15/main/postmaster.pid'):\n"
        "    time.sleep(0.2)\n"
        "time.sleep(3)  # outlive_postgresql\n"
    )
    subprocess.run(
        ["podman", "exec", "-d", PREFIX + host, "python3", "-c", outliver],
        check=True,
        capture_output=True,
        env=project_env(),
    )
    for _ in range(50):
        outlivers = inside(PREFIX + host, "pgrep", "-f", "outlive_postgresql").stdout.split()
        if set(outlivers) & set(on(host, "cat", procs).split()):
            return
        time.sleep(0.1)
    raise AssertionError(f"no process joined {unit} on {host}")


def repository(*args: str) -> str:
    return on(REPO, "pgbackrest", "--stanza=main", *args, user="pgbackrest")


def repository_info() -> dict:
    return json.loads(repository("info", "--output=json"))[0]


def address(host: str) -> str:
    template = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    inspect = run(["podman", "inspect", "-f", template, PREFIX + host])
    return inspect.stdout.strip()


def app_conninfo(hosts: list[str]) -> str:
    """The app database on whichever of the hosts is primary, over TLS (the controller is the app network)."""
    return (
        f"host={','.join(address(h) for h in hosts)} port=5432 dbname=app user=app password={APP_PASSWORD} "
        "sslmode=require target_session_attrs=read-write connect_timeout=2"
    )


def endpoint_conninfo(hosts: tuple[str, ...] = MEMBERS, port: int = 5000) -> str:
    """The app database through the hosts' HAProxy (a Patroni cluster's read-write port, or `port`).

    No target_session_attrs: libpq takes the first HAProxy that answers; where it leads is HAProxy's doing.
    """
    direct = app_conninfo(list(hosts)).replace(" target_session_attrs=read-write", "")
    return direct.replace("port=5432", f"port={port}")


def rows_on(conninfo: str) -> set[int]:
    with psycopg.connect(conninfo) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM drill")}


def segment_end(wal_file: str) -> int:
    """The LSN (as a byte position) just past the end of a WAL segment, from its file name."""
    log, segment = int(wal_file[8:16], 16), int(wal_file[16:24], 16)
    return (log << 32) + (segment + 1) * WAL_SEGMENT


def backup_log_sources() -> dict[str, int]:
    """Files copied per source address by the newest backup, from the repository host's backup log."""
    log = on(REPO, "cat", "/var/log/pgbackrest/main-backup.log")
    newest = log.rsplit("backup command begin", 1)[-1]
    sources: dict[str, int] = {}
    for line in newest.splitlines():
        if "DETAIL: backup file " in line:
            source = line.split("DETAIL: backup file ", 1)[1].split(":", 1)[0]
            sources[source] = sources.get(source, 0) + 1
    return sources


@dataclass(eq=False)  # a Thread must stay hashable
class ArchiveLag(threading.Thread):
    """Samples, once a second, how many bytes of WAL the primary wrote that are not archived yet."""

    samples: list[int] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, daemon=True)

    def run(self) -> None:
        while not self.stopping.wait(1):
            current, archived = sql(
                PRIMARY, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0'), last_archived_wal FROM pg_stat_archiver"
            ).split("|")
            if archived:
                self.samples.append(max(0, int(float(current)) - segment_end(archived)))

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)
