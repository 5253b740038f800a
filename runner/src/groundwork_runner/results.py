"""What a run returns: frozen dataclasses, safe to keep and share between threads."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


class RunStatus(enum.StrEnum):
    SUCCESSFUL = "successful"
    FAILED = "failed"
    CANCELED = "canceled"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class HostStats:
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0


@dataclass(frozen=True)
class FailedTask:
    host: str
    task: str
    message: str
    unreachable: bool = False


@dataclass(frozen=True)
class Event:
    """One Ansible callback event, as ansible-runner reports it (no_log results already censored)."""

    name: str
    counter: int
    uuid: str
    host: str | None = None
    play: str | None = None
    task: str | None = None
    action: str | None = None
    changed: bool = False
    stdout: str = ""
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Change:
    """A change a check-mode run predicts."""

    host: str
    task: str
    action: str
    diff: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class RunResult:
    status: RunStatus
    rc: int
    duration: float
    hosts: Mapping[str, HostStats]
    failed_tasks: tuple[FailedTask, ...] = ()
    artifact_dir: Path | None = None
    # Ansible's error output when the run failed before any host ran (syntax error, …).
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.SUCCESSFUL

    @property
    def failed_hosts(self) -> tuple[str, ...]:
        return tuple(sorted(h for h, s in self.hosts.items() if s.failed))

    @property
    def unreachable_hosts(self) -> tuple[str, ...]:
        return tuple(sorted(h for h, s in self.hosts.items() if s.unreachable))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["artifact_dir"] = str(self.artifact_dir) if self.artifact_dir else None
        return data


@dataclass(frozen=True)
class CheckResult:
    """A check+diff run: its result and the changes it predicts, per host."""

    result: RunResult
    changes: Mapping[str, tuple[Change, ...]]
