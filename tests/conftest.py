"""Fixtures for the collection's suite; helpers live in harness.py (a name no other suite uses)."""

import functools
import os
import re
import sys
import time
from pathlib import Path

import pytest
import testinfra_nsenter
import yaml
from cpu_use import HostsCpu, controller_seconds, machine_seconds
from harness import ROOT, Figures

testinfra_nsenter.use_for_podman()  # the lab's testinfra checks (test_lab_cluster.py)

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


START = pytest.StashKey[tuple[float, float, float]]()
CONTROLLER_CPU = pytest.StashKey[float]()
HOSTS_CPU = pytest.StashKey[HostsCpu]()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[START] = (time.monotonic(), *machine_seconds())
    session.config.stash[CONTROLLER_CPU] = controller_seconds()
    session.config.stash[HOSTS_CPU] = HostsCpu(container_scope)


# Every report carries the CPU spent since the report before it on the same worker (tests/cpu_use.py):
# the worker's controller side, and the hosts of the test's scope.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    report = yield
    now = controller_seconds()
    controller = now - item.config.stash[CONTROLLER_CPU]
    item.config.stash[CONTROLLER_CPU] = now
    hosts = item.config.stash[HOSTS_CPU].spent(scope_of(item.nodeid))
    # Kept on the item, named by phase: later reports of the test carry the earlier phases' too, and
    # so does the tear-down's, the one pytest's --junitxml records.
    spent = [(f"controller_cpu_{report.when}", controller), (f"hosts_cpu_{report.when}", hosts)]
    item.user_properties.extend(spent)
    report.user_properties = [*report.user_properties, *spent]
    return report


def cpu_of(report: pytest.TestReport, side: str) -> float:
    """What one phase of a test spent, on the controller or the hosts."""
    return sum(value for name, value in report.user_properties if name == f"{side}_cpu_{report.when}")


@functools.cache
def container_scopes() -> tuple[tuple[str, str], ...]:
    """(container name prefix or name, scope): the lab's and the empty lab's, each Molecule instance's."""
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    from lab import EMPTY_PREFIX, PREFIX  # noqa: PLC0415 - the lab's names have one owner, lab.py

    scopes = [(PREFIX, "lab"), (EMPTY_PREFIX, "tests/integration/test_lab_refusals.py")]
    for scenario in sorted((ROOT / "molecule").glob("*/molecule.yml")):
        for platform in yaml.safe_load(scenario.read_text())["platforms"]:
            scopes.append((platform["name"], f"molecule:{scenario.parent.name}"))
    return tuple(scopes)


def container_scope(name: str) -> str:
    """The scope whose hosts a container is; "" for a container no scope owns."""
    return next((scope for prefix, scope in container_scopes() if name.startswith(prefix)), "")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    reports = [r for outcome in ("passed", "failed") for r in terminalreporter.stats.get(outcome, [])]
    lines = [value for r in reports if r.when == "call" for key, value in r.user_properties if key == "figure"]
    if lines:
        terminalreporter.section("figures measured in this run")
        for line in lines:
            terminalreporter.write_line(line)
    time_per_scope(terminalreporter)
    # The machine's CPU beside the wall time: how much a third worker, or a cheaper scope, could gain.
    if START in config.stash:
        started, busy_before, idle_before = config.stash[START]
        busy, idle = machine_seconds()
        wall = time.monotonic() - started
        busy, idle = busy - busy_before, idle - idle_before
        terminalreporter.write_line(
            f"{wall:8.0f} s  wall; CPU {busy:.0f} s busy, {idle:.0f} s idle on {os.cpu_count()} cores "
            f"({100 * busy / max(busy + idle, 1):.0f} % busy)"
        )


def time_per_scope(terminalreporter: pytest.TerminalReporter) -> None:
    """Where the suite's time went, one line per scope (a module, or a whole Molecule scenario with its
    drills): set-up, calls and tear-down added up, slowest first; the lab's modules each under it, and
    each pytest-xdist worker's sum (how evenly the scopes were dealt).

    Passed set-up and tear-down reports are kept under the outcome "" (a scenario's converge is a
    fixture's set-up), so every outcome is read. CPU seconds beside them (tests/cpu_use.py): on two
    busy cores they are what a scope costs.
    """
    totals: dict[str, list[float]] = {}
    modules: dict[str, dict[str, list[float]]] = {}
    workers: dict[str, float] = {}
    steps: list[tuple[float, pytest.TestReport]] = []
    for report in (r for reports in terminalreporter.stats.values() for r in reports):
        if not isinstance(report, pytest.TestReport):
            continue
        controller, hosts = cpu_of(report, "controller"), cpu_of(report, "hosts")
        scope, module = scope_of(report.nodeid), report.nodeid.split("::", 1)[0]
        shares = [totals.setdefault(scope, [0.0, 0.0, 0.0])]
        if scope != module and not scope.startswith("molecule:"):
            shares.append(modules.setdefault(scope, {}).setdefault(module, [0.0, 0.0, 0.0]))
        for share in shares:
            share[0] += report.duration
            share[1] += controller
            share[2] += hosts
        steps.append((controller + hosts, report))
        worker = getattr(getattr(report, "node", None), "gateway", None)  # set on the reports xdist relays
        if worker is not None:
            workers[worker.id] = workers.get(worker.id, 0.0) + report.duration
    if not totals:
        return

    def line(name: str, wall: float, controller: float, hosts: float) -> None:
        terminalreporter.write_line(f"{wall:7.0f}s  {controller:14.0f}s  {hosts:5.0f}s  {name}")

    terminalreporter.section("time per scope")
    terminalreporter.write_line(f"{'wall':>8}  {'CPU: controller':>15}  {'hosts':>6}  scope")
    for scope, total in sorted(totals.items(), key=lambda item: -item[1][0]):
        line(scope, *total)
        for module, share in modules.get(scope, {}).items():  # in the order they ran
            line(f"  {module}", *share)
    for worker, wall in sorted(workers.items()):
        terminalreporter.write_line(f"{wall:7.0f}s  on worker {worker}")
    terminalreporter.section("most CPU (controller + hosts), 15 steps")
    for spent, report in sorted(steps, key=lambda step: -step[0])[:15]:
        terminalreporter.write_line(f"{spent:7.0f}s  {report.when:8}  {report.nodeid}")


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
    # site.yml from the execution environment repairs drift, while the lab is otherwise as site.yml left it.
    "tests/integration/test_execution_environment.py",
    "tests/integration/test_lab_cluster.py",
    "tests/integration/test_lab_monitoring.py",
    "tests/integration/test_lab_logging.py",
    # The audit ran beside monitoring's module (integration/conftest.py's audit_under_way); read here.
    "tests/integration/test_lab_audit.py",
    # The drills, in the order the cluster goes through them (tests/integration/drills.py).
    "tests/integration/test_switchover_drill.py",
    "tests/integration/test_failover_drill.py",
    "tests/integration/test_replica_drills.py",
    "tests/integration/test_restore_drill.py",
    "tests/integration/test_backup_drill.py",
    # Every host upgraded, the primary switched over and back.
    "tests/integration/test_patch_drill.py",
    # Last: the cluster goes under Patroni and back.
    "tests/integration/test_patroni_conversion.py",
)
LONGEST_FIRST = (
    "lab",
    "molecule:hardening",
    "molecule:cluster_debian13",
    "molecule:patroni",
)


# Modules that run ansible-test share its virtual environments (~/.ansible/test/venv), which two
# runs at once would both create on a new machine: one scope, one worker, one after the other.
ANSIBLE_TEST_MODULES = ("tests/sanity/test_ansible_test.py", "tests/ci/test_pipelines.py")


def scope_of(nodeid: str) -> str:
    match = SCENARIO_ID.match(nodeid)
    if match:
        return f"molecule:{match['scenario']}"
    module = nodeid.split("::", 1)[0]
    if module in ANSIBLE_TEST_MODULES:
        return "ansible-test"
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
