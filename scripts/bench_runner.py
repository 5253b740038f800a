"""Overhead of groundwork_runner.run_playbook next to plain ansible-playbook, measured in one run.

Same playbook (5 tasks), same local-connection inventory of N hosts, same ansible.cfg;
runs alternate between the two so that machine load hits both alike. Prints median wall
time and CPU time (this process plus its children) for each, and the overhead.
usage: scripts/bench_runner.py [--hosts 1 20 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from groundwork_runner import run_playbook

PLAYBOOK = """
- name: Five tasks
  hosts: all
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
    - name: Set a fact
      ansible.builtin.set_fact:
        answer: 42
    - name: Run a command
      ansible.builtin.command: "true"
      changed_when: false  # `true` changes nothing; keeps the recap comparable
    - name: Check the fact
      ansible.builtin.assert:
        that: answer == 42
        quiet: true
    - name: Say something
      ansible.builtin.debug:
        msg: "{{ inventory_hostname }}"
"""


def cpu_seconds() -> float:
    self_usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return self_usage.ru_utime + self_usage.ru_stime + children.ru_utime + children.ru_stime


def measure(action: Callable[[], None]) -> tuple[float, float]:
    cpu, wall = cpu_seconds(), time.perf_counter()
    action()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 20, 100])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-runner-"))
    playbook = work / "five.yml"
    playbook.write_text(textwrap.dedent(PLAYBOOK))
    print(
        f"{'hosts':>5}  {'plain wall':>10}  {'wrapper wall':>12}  {'wall +%':>7}  "
        f"{'plain cpu':>9}  {'wrapper cpu':>11}  {'cpu +%':>6}"
    )
    for count in args.hosts:
        inventory = work / f"hosts-{count}.ini"
        inventory.write_text(
            "[all]\n"
            + "".join(f"h{i:03d}\n" for i in range(count))
            + "[all:vars]\nansible_connection=local\nansible_python_interpreter={{ ansible_playbook_python }}\n"
        )

        def plain(inventory: Path = inventory) -> None:
            subprocess.run(
                ["ansible-playbook", "-i", str(inventory), str(playbook)], check=True, stdout=subprocess.DEVNULL
            )

        def wrapped(inventory: Path = inventory) -> None:
            result = run_playbook(playbook, inventory)
            if not result.ok:
                sys.exit(f"wrapper run failed: {result}")

        plain_runs, wrapped_runs = [], []
        for _ in range(args.repeat):
            plain_runs.append(measure(plain))
            wrapped_runs.append(measure(wrapped))
        pw, pc = (statistics.median(r[i] for r in plain_runs) for i in (0, 1))
        ww, wc = (statistics.median(r[i] for r in wrapped_runs) for i in (0, 1))
        print(
            f"{count:>5}  {pw:>9.2f}s  {ww:>11.2f}s  {100 * (ww / pw - 1):>+6.1f}%  "
            f"{pc:>8.2f}s  {wc:>10.2f}s  {100 * (wc / pc - 1):>+5.1f}%",
            flush=True,
        )


if __name__ == "__main__":
    main()
