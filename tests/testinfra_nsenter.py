"""testinfra's podman backend, entering the container with nsenter (harness.entering says why).

The lab's and the Molecule scenarios' checks run a few hundred commands each; each `podman exec`
costs a quarter CPU-second on the suite's two busy cores.
"""

from __future__ import annotations

import shlex
from typing import Any

import testinfra.backend
from harness import entering
from testinfra.backend import base
from testinfra.backend.podman import PodmanBackend


class NsenterPodmanBackend(PodmanBackend):
    def run(self, command: str, *args: str, **kwargs: Any) -> base.CommandResult:
        prefix = entering(self.name, self.user or "root")
        if prefix is None:  # not running, or not root: podman says what it says
            return super().run(command, *args, **kwargs)
        cmd = self.get_command(command, *args)
        # run_local formats with %: the prefix (PATH, a PID, a user name) holds none.
        out = self.run_local(f"{shlex.join(prefix)} /bin/sh -c %s", cmd)
        out.command = self.encode(cmd)
        return out


def use_for_podman() -> None:
    """Make podman:// hosts this backend (called from the conftest files, before any test module's get_host)."""
    testinfra.backend.BACKENDS["podman"] = f"{__name__}.{NsenterPodmanBackend.__name__}"
