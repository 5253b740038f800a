# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""podman_exec: containers.podman's connection, pipelined: one `podman exec -i` (or nsenter) per task."""

from __future__ import annotations

DOCUMENTATION = r"""
name: podman_exec
short_description: Run tasks in podman containers with pipelining
version_added: 0.1.0
description:
  - The connection of M(containers.podman.podman), with pipelining. That plugin runs
    C(podman exec) without stdin, so Ansible must copy each module into the container, make
    it executable, run it and remove it - four or five podman calls, each taking podman's
    storage lock. This one passes the module on stdin (C(podman exec -i)), one call per task.
  - Files (M(ansible.builtin.copy), M(ansible.builtin.template)) are streamed through the same
    C(podman exec -i) rather than C(podman cp), which pauses the container and costs several
    podman calls per file.
  - With O(enter=nsenter) a task enters the container the way C(podman exec) does (the
    namespaces, cgroups, capability bounding set, resource limits and environment of the
    container) without podman, for about 0.02 CPU-s per task instead of 0.25 (podman's start-up,
    its storage lock, conmon and runc). It needs root and a running container.
  - Used by the collection's Molecule scenarios; any local podman container works.
author: groundwork.infra maintainers (@groundwork-infra)
options:
  remote_addr:
    description: The container's name or ID.
    type: str
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_podman_host
  remote_user:
    description: User to run as inside the container (C(podman exec --user)).
    type: str
    vars:
      - name: ansible_user
    cli:
      - name: user
    keyword:
      - name: remote_user
  podman_extra_args:
    description: Extra arguments to pass to the podman command line.
    type: str
    default: ""
    ini:
      - section: defaults
        key: podman_extra_args
    vars:
      - name: ansible_podman_extra_args
    env:
      - name: ANSIBLE_PODMAN_EXTRA_ARGS
  podman_executable:
    description: Executable for podman commands.
    type: str
    default: podman
    vars:
      - name: ansible_podman_executable
    env:
      - name: ANSIBLE_PODMAN_EXECUTABLE
  enter:
    description:
      - How a task gets into the container.
      - V(podman) runs C(podman exec).
      - V(nsenter) runs C(nsenter) into the namespaces of the container's init, after joining its
        cgroups and taking its resource limits, then C(setpriv) (util-linux, essential on Debian)
        drops every capability the container lacks and the command gets the container's
        environment. Unlike C(podman exec), no seccomp filter applies. Needs root; tasks as another
        O(remote_user) go through C(podman exec). The container's
        PID and ID are asked from podman once and kept in C(~/.ansible/podman_exec/) while that
        PID is the container's init.
      - V(auto) is V(nsenter) when Ansible runs as root, V(podman) otherwise.
    type: str
    default: podman
    choices: [auto, podman, nsenter]
    version_added: 0.1.0
    vars:
      - name: ansible_podman_exec_enter
    env:
      - name: GROUNDWORK_PODMAN_EXEC_ENTER
  pipelining:
    description: Pass modules on stdin instead of copying them into the container.
    type: bool
    default: true
    env:
      - name: ANSIBLE_PIPELINING
    ini:
      - section: defaults
        key: pipelining
      - section: connection
        key: pipelining
    vars:
      - name: ansible_pipelining
"""

import json
import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.connection import ensure_connect
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection


class Connection(PodmanConnection):
    transport = "groundwork.infra.podman_exec"
    has_pipelining = True

    def _connect(self) -> Connection:
        # The parent mounts the container's filesystem on every connect (a podman call per task)
        # to speed up file copies; put_file streams them through `podman exec -i` instead.
        self._connected = True
        self._mount_point = None
        return self

    @ensure_connect
    def exec_command(self, cmd: str, in_data: bytes | None = None, sudoable: bool = False) -> tuple[int, bytes, bytes]:
        # The grandparent's bookkeeping only; the parent's version would run podman without -i.
        super(PodmanConnection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        return self._run_inside(shlex.split(to_native(cmd, errors="surrogate_or_strict")), in_data)

    @ensure_connect
    def put_file(self, in_path: str, out_path: str) -> None:
        super(PodmanConnection, self).put_file(in_path, out_path)
        with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as source:
            content = source.read()
        rc, _stdout, stderr = self._run_inside(["sh", "-c", 'cat > "$1"', "sh", out_path], content)
        if rc != 0:
            raise AnsibleError(
                f"Failed to copy {in_path} to {out_path} in container {self._container_id}: {to_native(stderr)}"
            )

    def reset(self) -> None:
        # meta: reset_connection (after a restart, say). No session outlives a task here: each runs its own
        # exec. What is kept is the container's init as last described; forgotten, the next task asks podman.
        (_INIT_CACHE / self._container_id.replace("/", "_")).unlink(missing_ok=True)

    def _run_inside(self, command: list[str], in_data: bytes | None) -> tuple[int, bytes, bytes]:
        enter = self.get_option("enter")
        # Another user goes through podman: its HOME, limits and groups are podman's to set.
        as_root = self.user in (None, "", "root")
        if as_root and (enter == "nsenter" or (enter == "auto" and os.geteuid() == 0)):
            return _nsentered(_container_init(self._container_id, self._podman), command, in_data)
        exec_args = ["exec", "-i"] if in_data is not None else ["exec"]
        if self.user:
            exec_args.extend(("--user", self.user))
        return self._podman(exec_args, command, in_data)


# The container's init as podman last described it, by container name: {"pid", "id", "cgroup", "ulimits"}.
_INIT_CACHE = Path.home() / ".ansible" / "podman_exec"


def _container_init(container: str, podman: Callable[..., tuple[int, bytes, bytes]]) -> dict:
    """The running container's init: its PID, the container's ID and resource limits.

    Asked from podman once and kept on disk (each task is a new process): an entry is trusted while
    its PID is PID 1 of a namespace and its cgroup names the container's ID, so a restarted or
    replaced container is asked again.
    """
    cached = _INIT_CACHE / container.replace("/", "_")
    try:
        init = json.loads(cached.read_text())
        if init["id"] in Path(f"/proc/{init['pid']}/cgroup").read_text() and _is_init(init["pid"]):
            return init
    except (OSError, ValueError, KeyError, TypeError):
        pass
    rc, stdout, stderr = podman(["inspect", "--format", "json"], use_container_id=True)
    try:
        (described,) = json.loads(stdout) if rc == 0 else [None]
        pid = described["State"]["Pid"]
    except (ValueError, TypeError, KeyError) as undescribed:
        raise AnsibleConnectionFailure(
            f"podman cannot describe container {container}: {to_native(stderr)}"
        ) from undescribed
    if not pid:
        raise AnsibleConnectionFailure(f"container {container} is not running")
    init = {
        "pid": pid,
        "id": described["Id"],
        "cgroup": described["State"]["CgroupPath"],
        "ulimits": described["HostConfig"].get("Ulimits") or [],
    }
    _INIT_CACHE.mkdir(mode=0o700, parents=True, exist_ok=True)
    cached.write_text(json.dumps(init))
    return init


def _nsentered(init: dict, command: list[str], in_data: bytes | None) -> tuple[int, bytes, bytes]:
    """Run a command in the container as `podman exec` would, through nsenter and setpriv."""
    pid = init["pid"]
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        cgroups = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError as gone:
        raise AnsibleConnectionFailure(f"the container's init (PID {pid}) is gone: {gone}") from gone
    # The container's capabilities are its init's bounding set; root keeps no more than those.
    bounding = int(next(line.split()[1] for line in status.splitlines() if line.startswith("CapBnd:")), 16)
    capabilities = ",".join(["-all"] + [f"+cap_{bit}" for bit in range(64) if bounding >> bit & 1])
    argv = ["nsenter", "--target", str(pid), "--all", "--wd", "setpriv", "--bounding-set", capabilities, "--"]
    # The container's environment, less the two variables podman gives its init alone.
    environment = [v.decode() for v in environ if v and not v.startswith((b"HOSTNAME=", b"container_uuid="))]
    argv += ["env", "-i", *environment]

    # What podman exec does before runc starts the command: the container's cgroup on every
    # hierarchy (the command is counted, limited and stopped with the container; where a hierarchy
    # keeps no process beside child groups, cgroup v2, the init's group) and the container's
    # resource limits (prlimit, util-linux).
    procs = []
    for line in cgroups:
        hierarchy = Path("/sys/fs/cgroup", _hierarchy_mount(line))
        container, init_group = init["cgroup"], line.split(":", 2)[2]
        procs.append(f"{hierarchy}{container}/cgroup.procs|{hierarchy}{init_group}/cgroup.procs")
    limits = [
        f"--{limit['Name'].removeprefix('RLIMIT_').lower()}={limit['Soft']}:{limit['Hard']}"
        for limit in init["ulimits"]
    ]
    join = 'for pair in $1; do echo $$ 2>/dev/null >"${pair%%|*}" || echo $$ >"${pair#*|}" || exit 125; done'
    # runc's umask, not the caller's.
    joining = ["sh", "-c", f'{join}; shift; umask 022; exec "$@"', "sh", " ".join(procs)]
    process = subprocess.Popen(
        [*joining, "prlimit", *limits, "--", *argv, *command],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = process.communicate(input=in_data)
    return process.returncode, stdout, stderr


def _hierarchy_mount(line: str) -> str:
    """Where a line of /proc/PID/cgroup is mounted under /sys/fs/cgroup (v1, hybrid or v2)."""
    hierarchy, controllers, _path = line.split(":", 2)
    if hierarchy != "0":
        return controllers.replace("name=", "")
    return "unified" if os.path.isdir("/sys/fs/cgroup/unified") else ""


def _is_init(pid: int) -> bool:
    """Whether a process is PID 1 of its PID namespace (a restarted container's processes reuse numbers)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next((line.split()[-1] == "1" for line in status.splitlines() if line.startswith("NSpid:")), False)
