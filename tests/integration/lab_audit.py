"""The lab's audit runs, which integration/conftest.py's audit_under_way makes and test_lab_audit.py reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness import ROOT


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


def hardening_exceptions() -> dict[str, tuple[set[str], str]]:
    """Rule id -> (the profiles it is listed for, its kind), from roles/hardening/README.md."""
    listed = {}
    for line in (ROOT / "roles" / "hardening" / "README.md").read_text().splitlines():
        if row := EXCEPTION_ROW.match(line):
            profiles = {name.strip() for name in row["profiles"].split(",")}
            listed[row["rule"]] = (profiles, row["kind"].strip())
    return listed
