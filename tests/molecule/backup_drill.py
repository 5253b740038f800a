"""The backup drill's tools: an inventory of the `cluster` scenario, SQL and pgBackRest on its hosts.

The drill runs the collection's playbooks on the scenario's instances the way an operator runs them.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from harness import ROOT, project_env, run

SCENARIO = ROOT / "molecule" / "cluster" / "molecule.yml"
PRIMARY, REPO, RESTORE = "gw-pgc1", "gw-pgc-repo", "gw-pgc-restore"
STANDBYS = ("gw-pgc2", "gw-pgc3")
WAL_SEGMENT = 16 * 1024 * 1024


class ScenarioInventory:
    """The scenario's hosts, groups and variables from molecule.yml, as an inventory file."""

    def __init__(self, directory: Path, scenario: Path = SCENARIO) -> None:
        self.path = directory / "hosts.yml"
        config = yaml.safe_load(scenario.read_text().replace("${MOLECULE_PROJECT_DIRECTORY}", str(ROOT)))
        provisioner = config["provisioner"]["inventory"]
        groups: dict[str, dict] = {}
        for platform in config["platforms"]:
            for group in platform["groups"]:
                groups.setdefault(group, {"hosts": {}})["hosts"][platform["name"]] = provisioner["host_vars"][
                    platform["name"]
                ]
        for group, variables in provisioner["group_vars"].items():
            if group != "all":
                groups[group]["vars"] = variables
        inventory = {"all": {"vars": provisioner["group_vars"].get("all", {}), "children": groups}}
        self.path.write_text(yaml.safe_dump(inventory))

    def playbook(self, name: str, *args: str) -> tuple[int, str]:
        result = run(["ansible-playbook", "-i", str(self.path), f"groundwork.infra.{name}", *args], timeout=1200)
        return result.returncode, result.stdout + result.stderr

    def module(self, host: str, module: str, arguments: str, *options: str) -> tuple[int, dict]:
        """An ad-hoc module run as the repository user; its result as a dict."""
        result = run(
            [
                "ansible",
                "-i",
                str(self.path),
                host,
                "-b",
                "--become-user",
                "pgbackrest",
                "-m",
                module,
                "-a",
                arguments,
                *options,
            ],
            env=project_env(ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json"),
        )
        # profile_tasks (ansible.cfg) prints lines before and after the JSON document.
        plays = json.JSONDecoder().raw_decode(result.stdout[result.stdout.index("{") :])[0]["plays"]
        return result.returncode, plays[0]["tasks"][0]["hosts"][host]


def on(host: str, *command: str, user: str = "root") -> str:
    """stdout of a command on a scenario host (fails the test when it fails)."""
    prefix = [] if user == "root" else ["runuser", "-u", user, "--"]
    result = subprocess.run(
        ["podman", "exec", host, *prefix, *command], capture_output=True, text=True, env=project_env(), check=False
    )
    assert result.returncode == 0, f"{' '.join(command)} on {host}: {result.stderr}"
    return result.stdout.strip()


def sql(host: str, query: str, database: str = "postgres") -> str:
    return on(host, "psql", "-XAtq", "-d", database, "-c", query, user="postgres")


def repository(*args: str) -> str:
    return on(REPO, "pgbackrest", "--stanza=main", *args, user="pgbackrest")


def repository_info() -> dict:
    return json.loads(repository("info", "--output=json"))[0]


def address(host: str) -> str:
    return on(host, "hostname", "-I").split()[0]


def segment_end(wal_file: str) -> int:
    """The LSN (as a byte position) just past the end of a WAL segment, from its file name."""
    log, segment = int(wal_file[8:16], 16), int(wal_file[16:24], 16)
    return (log << 32) + (segment + 1) * WAL_SEGMENT


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


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(1)
