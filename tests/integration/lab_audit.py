"""The lab's audit run, which integration/conftest.py's audit_under_way makes and test_lab_audit.py reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class AuditRun:
    """audit.yml's run on every lab host: exit code, output, reports folder, each host's packages just before
    and just after it (other modules install theirs later), seconds."""

    rc: int
    out: str
    reports: Path
    before: dict[str, set[str]]
    after: dict[str, set[str]]
    took: float


AUDIT_PROFILE = "standard"
