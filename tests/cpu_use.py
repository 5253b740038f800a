"""CPU seconds per test and per scope, beside the wall time: the controller's and the hosts'.

The suite runs on two cores and is bound by CPU, so wall time says little about what a test costs:
two scopes running side by side slow each other down. CPU seconds add up.
- Controller: the worker's own and its waited-for children's CPU (ansible-playbook, molecule,
  testinfra).
- Hosts: the CPU of the podman containers that are the scope's hosts, read from their cgroups.
Both are read at every test report (set-up, call, tear-down), so each carries what was spent since
the report before it on the same worker.
"""

from __future__ import annotations

import os
import resource
import subprocess
from collections.abc import Callable
from pathlib import Path

# podman's cgroupfs parent: cgroup v1 (cpuacct, nanoseconds) or v2 (cpu.stat, microseconds).
CGROUP_V1 = Path("/sys/fs/cgroup/cpuacct/libpod_parent")
CGROUP_V2 = Path("/sys/fs/cgroup/libpod_parent")


def machine_seconds() -> tuple[float, float]:
    """This machine's busy and idle CPU seconds since boot, all cores (the first line of /proc/stat)."""
    ticks = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    hertz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks[:8]) - idle) / hertz, idle / hertz


def controller_seconds() -> float:
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


def _read_v1(group: Path) -> float:
    return int((group / "cpuacct.usage").read_text()) / 1e9


def _read_v2(group: Path) -> float:
    stat = dict(line.split() for line in (group / "cpu.stat").read_text().splitlines())
    return int(stat["usage_usec"]) / 1e6


def container_seconds() -> dict[str, float]:
    """CPU seconds each running container has used so far, by full container id."""
    parent, read = (CGROUP_V1, _read_v1) if CGROUP_V1.is_dir() else (CGROUP_V2, _read_v2)
    used: dict[str, float] = {}
    for group in parent.glob("libpod-*") if parent.is_dir() else ():
        try:
            used[group.name.removeprefix("libpod-")] = read(group)
        except (OSError, ValueError, KeyError):
            continue  # removed while read
    return used


class HostsCpu:
    """What a scope's containers spent since the last reading, in this process's view.

    Containers running before the first reading (a kept lab, an operator's) count from then on only;
    a container's CPU after its last reading before removal is not seen.
    """

    def __init__(self, scope_of_container: Callable[[str], str]) -> None:
        self.scope_of_container = scope_of_container
        self.last = container_seconds()
        self.scopes: dict[str, str] = {}  # container id -> scope

    def spent(self, scope: str) -> float:
        now = container_seconds()
        if set(now) - set(self.scopes):
            self._name(now)
        # A container restarted since (a drill kills and starts a host) has a new cgroup, counting from 0.
        total = sum(used - self.last.get(container, 0.0) if used >= self.last.get(container, 0.0) else used
                    for container, used in now.items() if self.scopes.get(container) == scope)  # fmt: skip
        self.last.update(now)
        return total

    def _name(self, containers: dict[str, float]) -> None:
        listed = subprocess.run(
            ["podman", "ps", "--all", "--no-trunc", "--format", "{{.ID}} {{.Names}}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        names = dict(line.split(" ", 1) for line in listed.stdout.splitlines() if " " in line)
        for container in containers:
            # One already gone is nobody's: never looked up again.
            self.scopes[container] = self.scope_of_container(names[container]) if container in names else ""
