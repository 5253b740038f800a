"""Hand secrets to ansible-playbook through named pipes, so that they never reach a disk.

A FIFO has no data blocks: what is written to it stays in the kernel's pipe buffer until
the reader takes it. ansible-playbook reads `--vault-password-file` and `--extra-vars @file`
with one open() and one read(), so each reader gets the payload once, whole.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

# How often an idle server looks for a reader, and how long it waits after serving one
# so that the same reader sees end-of-file before the next copy is offered.
_POLL_SECONDS = 0.02
_AFTER_SERVE_SECONDS = 0.2


class FifoSecret:
    """Serve `payload` to every process that opens `path`, until close()."""

    def __init__(self, path: Path, payload: bytes) -> None:
        self.path = path
        self._payload = payload
        self._stop = threading.Event()
        self.reads = 0
        os.mkfifo(path, 0o600)
        self._thread = threading.Thread(target=self._serve, name=f"fifo-secret:{path.name}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno in (errno.ENXIO, errno.EAGAIN):  # no reader yet
                    self._stop.wait(_POLL_SECONDS)
                    continue
                log.debug("secret pipe %s closed: %s", self.path, exc)
                return
            try:
                os.set_blocking(fd, True)
                view = memoryview(self._payload)
                while view:
                    view = view[os.write(fd, view) :]
                self.reads += 1
            except BrokenPipeError:
                log.debug("reader of %s left early", self.path)
            finally:
                os.close(fd)
            self._stop.wait(_AFTER_SERVE_SECONDS)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def __enter__(self) -> FifoSecret:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
