"""The lab's audit runs, which integration/conftest.py's audit_under_way makes and test_lab_audit.py reads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import ROOT
from lab import on


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


AUDIT_PROFILE = "standard"
MORE_PROFILE = "anssi_bp28_intermediary"

# The hardening README's rules that do not pass, a table row each: | `rule` | profiles | kind | why | toggle |
EXCEPTION_ROW = re.compile(r"^\| `(?P<rule>[a-z0-9_]+)` \| (?P<profiles>[a-z0-9_, ]+) \| (?P<kind>[a-z ]+) \|")
HOST_KERNEL = "host kernel"  # the running value is the container host's: passes where that kernel has it

# libopenscap's probes sometimes die of a segfault mid-evaluation (the lab's pg2 once, in a full run:
# `probe_worker ... segfault ... in libopenscap.so`, oscap killed). The run of MORE_PROFILE meets that
# fault on purpose: on CRASHING_HOST an oscap earlier in sudo's PATH runs the real one, kills it with
# SIGSEGV two seconds in, and dies of the same signal - once, the next call runs the real one.
CRASHING_HOST = "pg2"
CRASHING_OSCAP = "/usr/local/sbin/oscap"
CRASHED_ONCE = "/run/groundwork-lab-oscap-crashed"
CRASH_ONCE = f"""#!/bin/sh
if mkdir {CRASHED_ONCE} 2>/dev/null; then
    /usr/bin/oscap "$@" &
    sleep 2
    kill -SEGV $!
    wait $!
    kill -SEGV $$
fi
exec /usr/bin/oscap "$@"
"""


@contextmanager
def oscap_crashing_once() -> Iterator[None]:
    """CRASHING_HOST's oscap dies of a segfault at its first call in the block; gone after it."""
    on(CRASHING_HOST, "sh", "-c", f'printf %s "$1" > {CRASHING_OSCAP} && chmod 0755 {CRASHING_OSCAP}', "sh", CRASH_ONCE)
    try:
        yield
    finally:
        on(CRASHING_HOST, "rm", "-rf", CRASHING_OSCAP, CRASHED_ONCE)


def hardening_exceptions() -> dict[str, tuple[set[str], str]]:
    """Rule id -> (the profiles it is listed for, its kind), from roles/hardening/README.md."""
    listed = {}
    for line in (ROOT / "roles" / "hardening" / "README.md").read_text().splitlines():
        if row := EXCEPTION_ROW.match(line):
            profiles = {name.strip() for name in row["profiles"].split(",")}
            listed[row["rule"]] = (profiles, row["kind"].strip())
    return listed
