"""The suite's lab, brought up once and converged once for every module that uses it.

tests/conftest.py gives the lab's modules (LAB_MODULES there) to one worker, site first, then the
cluster's, monitoring's (the audit running beside them) and logging's checks, the audit's, then
the drills (test_*_drill*.py), which change the cluster.
test_lab_refusals.py has a lab of its own, which nothing converges, and may run on the other worker.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from harness import ROOT, run, tail
from lab import EMPTY_PREFIX, INVENTORY, LAB_HOSTS, PAUSED, PREFIX, LabInventory, environment, packages, playbook
from lab_audit import (
    AUDIT_PROFILE,
    MORE_PROFILE,
    OSCAP_TIMEOUT,
    AuditRun,
    ProfileRun,
    oscap_failing_once,
    remote_log_rules,
)


def brought_up(prefix: str, facts: Path) -> Iterator[dict[str, str]]:
    """A lab brought up new under `prefix`, and removed at the end: the environment that reaches it.

    GROUNDWORK_KEEP_LAB=1 keeps it, and reuses a kept one, for working on one drill at a time.
    """
    env = environment(facts, prefix)
    keep = os.environ.get("GROUNDWORK_KEEP_LAB") == "1"
    if not keep:
        run([str(ROOT / "scripts" / "lab"), "down"], env=env)
    up = run([str(ROOT / "scripts" / "lab"), "up"], env=env, timeout=600)
    assert up.returncode == 0, tail(up.stdout + up.stderr)
    yield env
    if not keep:
        run([str(ROOT / "scripts" / "lab"), "down"], env=env)


@pytest.fixture(scope="session")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment that reaches the suite's lab, which site.yml converges and the drills change."""
    yield from brought_up(PREFIX, tmp_path_factory.mktemp("facts"))


@pytest.fixture(scope="session")
def empty_lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment that reaches the empty lab (hosts up, nothing applied), for runs that must be refused."""
    yield from brought_up(EMPTY_PREFIX, tmp_path_factory.mktemp("empty-facts"))


@pytest.fixture(scope="session")
def site_output(lab_env: dict[str, str]) -> dict[str, object]:
    """site.yml's first run on the new lab, schedules paused: exit code and output (test_lab_site.py judges them)."""
    result = run(["ansible-playbook", "-i", str(INVENTORY), "groundwork.infra.site", *PAUSED], env=lab_env)
    return {"rc": result.returncode, "out": result.stdout + result.stderr}


@pytest.fixture(scope="session")
def converged_lab(lab_env: dict[str, str], site_output: dict[str, object]) -> dict[str, str]:
    """The lab once site.yml has run on it without failing."""
    assert site_output["rc"] == 0, tail(str(site_output["out"]))
    return lab_env


@pytest.fixture(scope="session")
def inventory(converged_lab: dict[str, str]) -> LabInventory:
    """The inventory the drills run the playbooks with, edited as the operator would after each
    switchover or failover; one for every drill module, as the cluster is one."""
    drill = LabInventory(converged_lab)
    drill.write(primary="pg1")
    return drill


@pytest.fixture(scope="session")
def audit_under_way(
    converged_lab: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Future[AuditRun]]:
    """audit.yml on every lab host, started by the first module that asks (monitoring's) and left to run
    beside it, which mostly waits for alerts: the scanners' minutes cost the lab's sequence little of their
    own. Logging's module waits for its end; test_lab_audit.py reads the result. The audit only installs
    and removes its scanners and reads; a Lynis threshold no host meets (100) makes it name every host as
    under it. A second run evaluates MORE_PROFILE with OpenSCAP alone (an operator runs one audit per
    profile), without metrics (they stay the first run's), and removes the scanners; on two hosts its
    oscap crashes or hangs once (lab_audit.py's FAULTY_OSCAP). Between the two, the remote log host's rules
    alone on REMOTE_LOG_HOSTS."""
    reports = tmp_path_factory.mktemp("audit-reports")
    more_reports = tmp_path_factory.mktemp("audit-reports-more")

    def audit() -> AuditRun:
        before = {host: packages(host) for host in LAB_HOSTS}
        started = time.monotonic()
        rc, out = playbook(
            converged_lab, "groundwork.infra.audit",
            "-e", f"audit_reports_dir={reports}", "-e", f"audit_openscap_profile={AUDIT_PROFILE}",
            "-e", "audit_min_lynis_index=100",
        )  # fmt: skip
        took = time.monotonic() - started
        remote_log = remote_log_rules(converged_lab, tmp_path_factory.mktemp("audit-reports-remote-log"))
        started = time.monotonic()
        with oscap_failing_once():
            more_rc, more_out = playbook(
                converged_lab, "groundwork.infra.audit",
                "-e", f"audit_reports_dir={more_reports}", "-e", f"audit_openscap_profile={MORE_PROFILE}",
                "-e", "audit_lynis_enabled=false", "-e", "audit_metrics_enabled=false",
                "-e", "audit_remove_scanners=true", "-e", f"audit_openscap_timeout={OSCAP_TIMEOUT}",
            )  # fmt: skip
        more = ProfileRun(more_rc, more_out, more_reports, time.monotonic() - started)
        after = {host: packages(host) for host in LAB_HOSTS}
        return AuditRun(rc, out, reports, before, after, took, more, remote_log)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit") as background:
        yield background.submit(audit)  # leaving the block waits for it: the lab stays until it ends


FAILED_DRILL = pytest.StashKey[str]()


# The drills run in order on one cluster, each starting from the state the one before left, from one
# drill module to the next. After a drill fails that state is unknown: the rest are skipped rather
# than each waiting out its timeouts against a cluster in pieces (a CI run spent an hour so), and the
# failure stays the one to read.
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> None:
    # A drill that skipped itself is no failure: only a real one stops the sequence.
    failed = call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception)
    if item.get_closest_marker("in_sequence") and call.when == "call" and failed:
        item.session.stash[FAILED_DRILL] = item.nodeid


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("in_sequence") and FAILED_DRILL in item.session.stash:
        failed = item.session.stash[FAILED_DRILL]
        # Never hides a failure: the drill that failed is reported as failed, so the run fails anyway.
        pytest.skip(f"{failed} failed before it: the cluster is not in the state this drill starts from")
