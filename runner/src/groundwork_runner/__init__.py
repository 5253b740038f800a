"""groundwork_runner: run groundwork.infra's playbooks from Python.

from groundwork_runner import run_playbook
result = run_playbook("groundwork.infra.site", "inventories/lab", limit="pg1")
"""

import logging

from .api import RunHandle, check, inventory, run_playbook, start_playbook
from .errors import (
    AnsibleNotFoundError,
    EventCallbackError,
    GroundworkRunnerError,
    InvalidExtravarsError,
    InventoryNotFoundError,
    PlaybookNotFoundError,
)
from .results import Change, CheckResult, Event, FailedTask, HostStats, RunResult, RunStatus

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AnsibleNotFoundError",
    "Change",
    "CheckResult",
    "Event",
    "EventCallbackError",
    "FailedTask",
    "GroundworkRunnerError",
    "HostStats",
    "InvalidExtravarsError",
    "InventoryNotFoundError",
    "PlaybookNotFoundError",
    "RunHandle",
    "RunResult",
    "RunStatus",
    "check",
    "inventory",
    "run_playbook",
    "start_playbook",
]
