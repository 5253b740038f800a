"""The private data dir each run gets: fresh, private to its owner, removed or rotated afterwards.

A fresh directory per run matters: ansible-runner's env/ files written by one run win
over a later run's arguments in the same directory.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "groundwork-run-"


def create(base: Path | None) -> Path:
    """A new 0700 directory under `base` (the system temp dir when None)."""
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def rotate(base: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest run directories under `base`; return the removed ones."""
    runs = sorted((p for p in base.glob(PREFIX + "*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    removed = runs[keep:]
    for path in removed:
        log.debug("rotating out %s", path)
        remove(path)
    return removed
