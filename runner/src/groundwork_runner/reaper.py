"""Stop every process a cancelled run left behind.

ansible-runner SIGKILLs the process group of ansible-playbook, but ansible-core starts each
worker in a session of its own, so a worker (and the module it runs) outlives the cancel.
Every process of a run inherits a marker in its environment; this finds them by it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from pathlib import Path

log = logging.getLogger(__name__)

MARKER_VARIABLE = "GROUNDWORK_RUN_ID"


def _marked(marker: bytes) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone already, or not ours to read
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def kill_run_processes(run_id: str, grace_seconds: float = 5.0) -> list[int]:
    """SIGKILL the processes carrying this run's marker; return their pids."""
    if not Path("/proc/self/environ").exists():
        return []
    marker = f"{MARKER_VARIABLE}={run_id}".encode()
    killed: list[int] = []
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        pids = _marked(marker)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            if pid not in killed:
                killed.append(pid)
        time.sleep(0.05)
    if killed:
        log.debug("run %s: killed leftover processes %s", run_id, killed)
    return killed
