"""Fixtures for the collection's suite; helpers live in harness.py (a name no other suite uses)."""

import os
import re
import sys
import time
from pathlib import Path

import pytest
from harness import ROOT, Figures

# Unit tests import plugin code as Ansible does, as ansible_collections.groundwork.infra.*
# (.collections links this repository in as groundwork/infra).
sys.path.insert(0, str(ROOT / ".collections"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


# Figures tests measure (drill timings, Lynis scores …) are printed together after the run, just
# above pytest's summary line, instead of being lost in captured output. They travel as the test
# report's user properties, so they reach the summary from pytest-xdist workers too.
@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    return Figures(request.node)


def cpu_seconds() -> tuple[float, float]:
    """This machine's busy and idle CPU seconds since boot, all cores (the first line of /proc/stat)."""
    ticks = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    hertz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks[:8]) - idle) / hertz, idle / hertz


START = pytest.StashKey[tuple[float, float, float]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[START] = (time.monotonic(), *cpu_seconds())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    reports = [r for outcome in ("passed", "failed") for r in terminalreporter.stats.get(outcome, [])]
    lines = [value for r in reports if r.when == "call" for key, value in r.user_properties if key == "figure"]
    if lines:
        terminalreporter.section("figures measured in this run")
        for line in lines:
            terminalreporter.write_line(line)
    # Where the suite's time went, one line per scope (a module, or a whole Molecule scenario with its
    # drills): set-up, calls and tear-down added up, slowest first.
    # Passed set-up and tear-down reports are kept under the outcome "" (a scenario's converge is a
    # fixture's set-up), so every outcome is read.
    seconds: dict[str, float] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if isinstance(report, pytest.TestReport):
                scope = scope_of(report.nodeid)
                seconds[scope] = seconds.get(scope, 0.0) + report.duration
    if seconds:
        terminalreporter.section("time per scope")
        for scope, total in sorted(seconds.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{total:8.0f} s  {scope}")
    # The machine's CPU beside the wall time: how much a third worker, or a cheaper scope, could gain.
    if START in config.stash:
        started, busy_before, idle_before = config.stash[START]
        busy, idle = cpu_seconds()
        wall = time.monotonic() - started
        busy, idle = busy - busy_before, idle - idle_before
        terminalreporter.write_line(
            f"{wall:8.0f} s  wall; CPU {busy:.0f} s busy, {idle:.0f} s idle on {os.cpu_count()} cores "
            f"({100 * busy / max(busy + idle, 1):.0f} % busy)"
        )


# `make test` runs two pytest-xdist workers. A worker takes a whole scope: the lab's modules (one
# converged lab: site.yml, its checks, then the drills that change it), one moto server's module or a
# whole Molecule scenario (its instances and steps), so the lab and the scenarios run side by side
# while each keeps its own order. xdist's own --dist loadgroup cannot do this under pytest 9 (it
# renames node ids, which pytest 9 no longer allows).
# The longest first (measured in CI), so that neither worker is left alone with a long one at
# the end; everything not named here is short and follows in collection order.
SCENARIO_ID = re.compile(r"^tests/molecule/.*\[(?P<scenario>[^\]]+)\]$")
LAB_MODULES = (
    "tests/integration/test_lab_site.py",
    "tests/integration/test_lab_cluster.py",
    "tests/integration/test_lab_monitoring.py",
    "tests/integration/test_lab_drills.py",
)
LONGEST_FIRST = (
    "lab",
    "molecule:hardening",
    "molecule:pgbackrest_s3",
)


def scope_of(nodeid: str) -> str:
    match = SCENARIO_ID.match(nodeid)
    if match:
        return f"molecule:{match['scenario']}"
    module = nodeid.split("::", 1)[0]
    return "lab" if module in LAB_MODULES else module


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):
        rank = {scope: position for position, scope in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: rank.get(scope_of(item.nodeid), len(rank)))  # stable: steps keep their order
    # The lab's modules in their order, whatever their names: the drills change the cluster.
    slots = [index for index, item in enumerate(items) if scope_of(item.nodeid) == "lab"]
    in_order = sorted((items[index] for index in slots), key=lambda item: LAB_MODULES.index(item.nodeid.split("::")[0]))
    for index, item in zip(slots, in_order, strict=True):
        items[index] = item


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415 - only when xdist runs

    class ByModuleOrScenario(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    config.option.loadscopereorder = False  # keep LONGEST_FIRST rather than sort by test count
    return ByModuleOrScenario(config, log)
