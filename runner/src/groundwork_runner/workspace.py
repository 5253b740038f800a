"""The private data dir each run gets: fresh, private to its owner, removed or rotated afterwards.

A fresh directory per run matters: ansible-runner's env/ files written by one run win
over a later run's arguments in the same directory.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import tempfile
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

PREFIX = "groundwork-run-"
# Held locked (flock) by the run that owns the directory, for as long as it runs.
RUNNING = ".running"


def create(base: Path | None) -> Path:
    """A new 0700 directory under `base` (the system temp dir when None)."""
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))


def hold(path: Path) -> IO[str]:
    """Mark a run directory as in use until the returned file is closed (also when the process dies)."""
    marker = (path / RUNNING).open("w")
    fcntl.flock(marker, fcntl.LOCK_EX)
    return marker


def in_use(path: Path) -> bool:
    try:
        with (path / RUNNING).open("r") as marker:
            fcntl.flock(marker, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except FileNotFoundError:
        return False
    except BlockingIOError:
        return True
    return False


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def rotate(base: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest run directories under `base`; return the removed ones.

    A directory whose run is still going (another thread's or process's) is never removed.
    """
    runs = sorted((p for p in base.glob(PREFIX + "*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    removed = [path for path in runs[keep:] if not in_use(path)]
    for path in removed:
        log.debug("rotating out %s", path)
        remove(path)
    return removed
