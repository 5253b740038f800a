"""The cluster drill's tools: an inventory that follows the cluster's changes, and a counted writer.

The drill runs the collection's playbooks on the Molecule `cluster` scenario's instances the way an
operator runs them: with an inventory they edit after each switchover or failover.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import yaml
from harness import ROOT, project_env, run

SCENARIO = ROOT / "molecule" / "cluster" / "molecule.yml"
MEMBERS = ("gw-pgc1", "gw-pgc2", "gw-pgc3")


def container_address(name: str) -> str:
    out = subprocess.run(["podman", "inspect", name], check=True, capture_output=True, text=True, env=project_env())
    networks = json.loads(out.stdout)[0]["NetworkSettings"]["Networks"]
    return next(iter(networks.values()))["IPAddress"]


class ClusterInventory:
    """An inventory of the scenario's members with a chosen primary, its variables from molecule.yml."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "hosts.yml"
        provisioner = yaml.safe_load(SCENARIO.read_text())["provisioner"]["inventory"]
        text = yaml.safe_dump(provisioner["group_vars"]["postgresql"])
        self.cluster_vars = yaml.safe_load(text.replace("${MOLECULE_PROJECT_DIRECTORY}", str(ROOT)))

    def write(self, primary: str) -> Path:
        host = {"ansible_connection": "groundwork.infra.podman_exec", "ansible_python_interpreter": "/usr/bin/python3"}
        inventory = {
            "all": {
                "children": {
                    "postgresql": {
                        "vars": self.cluster_vars,
                        "children": {
                            "postgresql_primary": {"hosts": {primary: host}},
                            "postgresql_replica": {"hosts": {m: host for m in MEMBERS if m != primary}},
                        },
                    }
                }
            }
        }
        self.path.write_text(yaml.safe_dump(inventory))
        return self.path

    def playbook(self, name: str, *args: str) -> tuple[int, str]:
        result = run(["ansible-playbook", "-i", str(self.path), f"groundwork.infra.{name}", *args], timeout=1200)
        return result.returncode, result.stdout + result.stderr


def app_conninfo(hosts: list[str]) -> str:
    password = yaml.safe_load(SCENARIO.read_text())["provisioner"]["inventory"]["group_vars"]["postgresql"]
    app = next(u for u in password["postgresql_users"] if u["name"] == "app")
    return (
        f"host={','.join(hosts)} port=5432 dbname=app user=app password={app['password']} "
        "sslmode=require target_session_attrs=read-write connect_timeout=2"
    )


@dataclass(eq=False)  # a Thread must stay hashable
class Writer(threading.Thread):
    """Inserts numbered rows one transaction at a time, reconnecting to whichever member is primary.

    `acknowledged` are the rows whose COMMIT returned; `in_doubt` the ones whose connection broke
    after the statement was sent (they may or may not have committed).
    """

    conninfo: str
    acknowledged: list[int] = field(default_factory=list)
    in_doubt: set[int] = field(default_factory=set)
    commit_times: list[float] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, daemon=True)

    def run(self) -> None:
        number, connection = 0, None
        while not self.stopping.is_set():
            sent = False
            try:
                if connection is None:
                    connection = psycopg.connect(self.conninfo, autocommit=True)
                number += 1
                sent = True
                connection.execute("INSERT INTO drill (id) VALUES (%s)", (number,))
                self.acknowledged.append(number)
                self.commit_times.append(time.monotonic())
            except psycopg.Error:
                if sent:
                    self.in_doubt.add(number)
                connection = None
                time.sleep(0.05)
        if connection is not None:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)

    def longest_gap(self) -> float:
        """Seconds of the longest stretch without a commit: the write unavailability."""
        times = self.commit_times
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


def rows_on(conninfo: str) -> set[int]:
    with psycopg.connect(conninfo) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM drill")}
