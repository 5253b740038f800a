"""The lab's audit runs, which integration/conftest.py's audit_under_way makes and test_lab_audit.py reads."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import ROOT
from lab import on, playbook


@dataclass
class ProfileRun:
    """audit.yml's run for one more profile, OpenSCAP alone: exit code, output, reports folder, seconds."""

    rc: int
    out: str
    reports: Path
    took: float


@dataclass
class AuditRun:
    """audit.yml's run on every lab host (Lynis and AUDIT_PROFILE): exit code, output, reports folder, each
    host's packages just before it and just after the run of MORE_PROFILE that follows it (other modules
    install theirs later), seconds; and that second run."""

    rc: int
    out: str
    reports: Path
    before: dict[str, set[str]]
    after: dict[str, set[str]]
    took: float
    more: ProfileRun
    remote_log: ProfileRun


AUDIT_PROFILE = "standard"
MORE_PROFILE = "anssi_bp28_intermediary"
# SCAP Security Guide's rules for a remote log host over TLS (ANSSI BP-028 enhanced and high), on the lab's
# syslog-over-TLS sender and on a RELP one (the logging role's README says why RELP fails them).
REMOTE_LOG_PROFILE = "anssi_bp28_enhanced"
REMOTE_LOG_RULES = ("rsyslog_remote_loghost", "rsyslog_remote_tls", "rsyslog_remote_tls_cacert")
REMOTE_LOG_HOSTS = {"tls": "restore1", "relp": "pg1"}

# The hardening README's rules that do not pass, a table row each: | `rule` | profiles | kind | why | toggle |
EXCEPTION_ROW = re.compile(r"^\| `(?P<rule>[a-z0-9_]+)` \| (?P<profiles>[a-z0-9_, ]+) \| (?P<kind>[a-z ]+) \|")
HOST_KERNEL = "host kernel"  # the running value is the container host's: passes where that kernel has it

# libopenscap's probes sometimes die of a segfault mid-evaluation (the lab's pg2 once, in a full run:
# `probe_worker ... segfault ... in libopenscap.so`, oscap killed), or deadlock (backup1 once: every
# thread of oscap waiting on a futex, for good). The run of MORE_PROFILE meets both on purpose: on each
# host of FAULTY_OSCAP an oscap earlier in sudo's PATH runs the real one and, two seconds in, kills it
# with SIGSEGV (and dies of the same signal) or stops it with SIGSTOP (and waits for it) - once: the
# next call runs the real one. That run's oscap gets OSCAP_TIMEOUT seconds.
FAULTY_OSCAP_PATH = "/usr/local/sbin/oscap"
FAILED_ONCE = "/run/groundwork-lab-oscap-failed"
OSCAP_TIMEOUT = 90  # an evaluation of MORE_PROFILE takes 10-30 s on a lab host
FAULT = {
    "crash": "kill -SEGV $!\n    wait $!\n    kill -SEGV $$",
    "hang": "kill -STOP $!\n    wait $!",
}
FAULTY_OSCAP = {"pg2": "crash", "pg3": "hang"}
FAIL_ONCE = """#!/bin/sh
if mkdir {failed_once} 2>/dev/null; then
    /usr/bin/oscap "$@" &
    sleep 2
    {fault}
fi
exec /usr/bin/oscap "$@"
"""


@contextmanager
def oscap_failing_once() -> Iterator[None]:
    """Each FAULTY_OSCAP host's oscap crashes or hangs at its first call in the block; gone after it."""
    for host, fault in FAULTY_OSCAP.items():
        script = FAIL_ONCE.format(failed_once=FAILED_ONCE, fault=FAULT[fault])
        on(host, "sh", "-c", f'printf %s "$1" > {FAULTY_OSCAP_PATH} && chmod 0755 {FAULTY_OSCAP_PATH}', "sh", script)
    try:
        yield
    finally:
        for host in FAULTY_OSCAP:
            on(host, "rm", "-rf", FAULTY_OSCAP_PATH, FAILED_ONCE)


def hardening_exceptions() -> dict[str, tuple[set[str], str]]:
    """Rule id -> (the profiles it is listed for, its kind), from roles/hardening/README.md."""
    listed = {}
    for line in (ROOT / "roles" / "hardening" / "README.md").read_text().splitlines():
        if row := EXCEPTION_ROW.match(line):
            profiles = {name.strip() for name in row["profiles"].split(",")}
            listed[row["rule"]] = (profiles, row["kind"].strip())
    return listed


def remote_log_rules(env: dict[str, str], reports: Path) -> ProfileRun:
    """audit.yml with REMOTE_LOG_RULES alone on REMOTE_LOG_HOSTS, the scanners left for the run after it."""
    started = time.monotonic()
    rc, out = playbook(
        env, "groundwork.infra.audit", "--limit", ",".join(REMOTE_LOG_HOSTS.values()),
        "-e", f"audit_reports_dir={reports}", "-e", f"audit_openscap_profile={REMOTE_LOG_PROFILE}",
        "-e", json.dumps({"audit_openscap_rules": REMOTE_LOG_RULES}),
        "-e", "audit_lynis_enabled=false", "-e", "audit_metrics_enabled=false",
    )  # fmt: skip
    return ProfileRun(rc, out, reports, time.monotonic() - started)
