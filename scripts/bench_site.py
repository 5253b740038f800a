"""An idempotent site.yml on the converged lab: wall time, controller CPU and where the time goes.

Run it after `make lab` (the lab converged, nothing left to change), or on the suite's kept lab
(GROUNDWORK_LAB_PREFIX=gwtest-, GROUNDWORK_KEEP_LAB=1). Each run is the command an
operator types, `ansible-playbook -i inventories/lab groundwork.infra.site`; it prints the wall
time, the controller's CPU seconds (ansible-playbook with its workers and ssh clients), the hosts'
CPU seconds (their containers' cgroups), the changed count per host (must be 0), the wall time per
role (ansible.posix.profile_roles) and the slowest tasks. The figure to beat is the one measured
before this benchmark existed: 265 s wall, 139 controller CPU-s on the 4-host lab.
usage: scripts/bench_site.py [--runs 2] [--check]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from harness import project_env, recap, warnings_in  # noqa: E402 - the suite's helpers, by path

BEFORE = "before (issue #14, same lab and command): 265 s wall, 139 controller CPU-s"
ROLE_LINE = re.compile(r"^(?P<role>[\w.]+) -+ (?P<seconds>[\d.]+)s$")
TASK_LINE = re.compile(r"^(?P<task>.+?) -+ (?P<seconds>[\d.]+)s$")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def hosts_cpu(env: dict[str, str]) -> float:
    """CPU seconds the lab's containers have used so far (cgroup v1 cpuacct or v2 cpu.stat)."""
    listed = subprocess.run(
        ["podman", "ps", "--filter", "label=groundwork.lab=1", "--format", "json"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    total = 0.0
    for container in json.loads(listed.stdout or "[]"):
        inspect = subprocess.run(
            ["podman", "inspect", "-f", "{{.State.CgroupPath}}", container["Id"]],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        cgroup = inspect.stdout.strip()
        v1 = Path("/sys/fs/cgroup/cpuacct") / cgroup.lstrip("/") / "cpuacct.usage"
        v2 = Path("/sys/fs/cgroup") / cgroup.lstrip("/") / "cpu.stat"
        if v1.is_file():
            total += int(v1.read_text()) / 1e9
        elif v2.is_file():
            usage = dict(line.split() for line in v2.read_text().splitlines())
            total += int(usage["usage_usec"]) / 1e6
    return total


def one_run(env: dict[str, str], check: bool) -> dict:
    command = ["ansible-playbook", "-i", str(ROOT / "inventories" / "lab"), "groundwork.infra.site"]
    if check:
        command.append("--check")
    cpu, host_cpu, wall = children_cpu(), hosts_cpu(env), time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - wall
    output = done.stdout + done.stderr
    if done.returncode != 0:
        sys.exit(f"site.yml failed (rc {done.returncode}):\n" + "\n".join(output.splitlines()[-40:]))
    summary = output.rsplit("PLAY RECAP", 1)[-1]
    return {
        "wall": wall,
        "cpu": children_cpu() - cpu,
        "hosts_cpu": hosts_cpu(env) - host_cpu,
        "changed": {host: c["changed"] for host, c in recap(output).items()},
        "roles": {m["role"]: float(m["seconds"]) for m in map(ROLE_LINE.match, summary.splitlines()) if m},
        "tasks": [
            (m["task"].strip(), float(m["seconds"]))
            for m in map(TASK_LINE.match, summary.splitlines())
            if m and not ROLE_LINE.match(m.group(0))
        ],
        "executed": len(re.findall(r"^(?:ok|changed): \[", output, re.MULTILINE)),
        "warnings": warnings_in(output),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="idempotent runs to measure (default 2)")
    parser.add_argument("--check", action="store_true", help="measure --check runs instead")
    args = parser.parse_args()
    env = project_env(
        ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks,ansible.posix.profile_roles",
        PROFILE_TASKS_TASK_OUTPUT_LIMIT="12",
    )
    mode = " --check" if args.check else ""
    print(f"site.yml{mode} on the converged lab, {args.runs} run(s); {os.cpu_count()} cores")
    print(BEFORE)
    runs = []
    for number in range(1, args.runs + 1):
        result = one_run(env, args.check)
        runs.append(result)
        print(
            f"run {number}: {result['wall']:6.1f} s wall, {result['cpu']:6.1f} controller CPU-s, "
            f"{result['hosts_cpu']:6.1f} hosts' CPU-s, {result['executed']} task results; changed "
            + ", ".join(f"{h}={c}" for h, c in sorted(result["changed"].items()))
        )
        for warning in result["warnings"]:
            print(f"  warning printed: {warning}")
    best = min(runs, key=lambda r: r["wall"])
    print(
        f"median: {statistics.median(r['wall'] for r in runs):.1f} s wall, "
        f"{statistics.median(r['cpu'] for r in runs):.1f} controller CPU-s"
    )
    print("per role (fastest run):")
    for role, seconds in sorted(best["roles"].items(), key=lambda item: -item[1]):
        print(f"  {seconds:6.1f} s  {role}")
    print("slowest tasks (fastest run):")
    for task, seconds in best["tasks"]:
        print(f"  {seconds:6.1f} s  {task}")


if __name__ == "__main__":
    main()
