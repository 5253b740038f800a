"""Shared test helpers: where the project is and how to run its tools (imported as `harness`)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"

RECAP_LINE = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)"
)


def project_env(**extra: str) -> dict[str, str]:
    """The environment scripts/env.sh gives: venv first on PATH, our ansible.cfg and podman settings."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["CONTAINERS_CONF"] = str(ROOT / "scripts" / "containers.conf")
    env["ANSIBLE_CACHE_PLUGIN_CONNECTION"] = str(ROOT / ".cache" / "facts")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["PY_COLORS"] = "0"
    env.update(extra)
    return env


def run(
    cmd: list[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    """Run a command, keep its output, never raise on a non-zero exit.

    A command still running after `timeout` seconds is killed and returns exit code 124 (as
    timeout(1) does) with what it printed so far, so that the test's assertion shows where it hung.
    """
    try:
        return subprocess.run(
            cmd, cwd=cwd, env=env or project_env(), text=True, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as expired:
        # TimeoutExpired carries bytes even for a text-mode run.
        stdout, stderr = (
            data.decode(errors="replace") if isinstance(data, bytes) else data or ""
            for data in (expired.output, expired.stderr)
        )
        return subprocess.CompletedProcess(cmd, 124, f"{stdout}\n[killed after {timeout:.0f} s]", stderr)


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP counters per host, from ansible-playbook's output (summed over recaps)."""
    totals: dict[str, dict[str, int]] = {}
    for line in output.splitlines():
        match = RECAP_LINE.match(line.strip())
        if match:
            host = totals.setdefault(match["host"], {"ok": 0, "changed": 0, "unreachable": 0, "failed": 0})
            for key in host:
                host[key] += int(match[key])
    return totals


def changed_or_failed(output: str) -> dict[str, int]:
    """The hosts whose recap shows a change or a failure, with their changed count ({} when nothing did)."""
    return {host: counts["changed"] for host, counts in recap(output).items() if counts["changed"] or counts["failed"]}


TASK_HEADER = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(?:\S+ : )?(?P<task>.*)\] \**$")
CHANGED_LINE = re.compile(r"^changed: \[(?P<host>[^\]\s]+)")


def changed_tasks(output: str) -> dict[str, set[str]]:
    """The tasks and handlers each host reported changed, by name without the role, from ansible-playbook's output."""
    changed: dict[str, set[str]] = {}
    task = ""
    for line in output.splitlines():
        if header := TASK_HEADER.match(line):
            task = header["task"]
        elif result := CHANGED_LINE.match(line):
            changed.setdefault(result["host"], set()).add(task)
    return changed


# What Ansible prints for a warning or a deprecation; a normal run prints neither.
ANSIBLE_WARNING = re.compile(r"^\s*\[(?:DEPRECATION )?WARNING\]:?.*$", re.MULTILINE)


def warnings_in(output: str) -> list[str]:
    """Ansible's warning and deprecation lines in a run's output."""
    return [match.group(0).strip() for match in ANSIBLE_WARNING.finditer(output)]


def said(out: str) -> str:
    """The output with its line folding undone, to look for a message in it."""
    return " ".join(out.split())


# The environment `podman exec` gives a command (the image's), without the caller's.
CONTAINER_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "container=podman")
# Container name -> (its init's PID, its full ID), read once per start of the container.
_INIT_PIDS: dict[str, tuple[int, str]] = {}


def _cgroup_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cgroup").read_text(errors="replace")
    except OSError:
        return ""


def _init_pid(container: str) -> int:
    """The PID of a running container's init as this machine sees it; 0 when it is not running."""
    known = _INIT_PIDS.get(container)
    # A restarted container has a new init: a PID is trusted only while its cgroup names the container.
    if known and known[1] in _cgroup_of(known[0]):
        return known[0]
    inspect = subprocess.run(
        ["podman", "inspect", "-f", "{{.State.Pid}} {{.Id}}", container],
        capture_output=True, text=True, env=project_env(), check=False,
    )  # fmt: skip
    pid, _, container_id = inspect.stdout.strip().partition(" ")
    if inspect.returncode != 0 or not pid.isdigit() or pid == "0":
        return 0
    _INIT_PIDS[container] = (int(pid), container_id)
    return int(pid)


def entering(container: str, user: str = "root") -> list[str] | None:
    """The command line that runs what follows it in a running container, as `podman exec` would.

    nsenter into the namespaces of the container's init: a `podman exec` costs about 0.25 CPU-s
    (podman's start-up, its storage lock, conmon and runc) and half a second on a busy machine,
    nsenter about 0.01, and the suite looks into its hosts a few thousand times. The command runs
    with root's capabilities in this machine's cgroup: right for looking at a host and for the
    faults tests make, not for what a host must run itself (services belong to the container's
    systemd; `podman exec -d` for the rest). None when the container is not running, or when this
    is not root (nsenter needs root; rootless podman must exec).
    """
    pid = _init_pid(container) if os.geteuid() == 0 else 0
    if not pid:
        return None
    return ["nsenter", "--target", str(pid), "--all", "env", "-i", *CONTAINER_ENV, *_as_user(user)]


def _as_user(user: str) -> list[str]:
    return [] if user == "root" else ["runuser", "-u", user, "--"]


def inside(
    container: str, *command: str, user: str = "root", stdin: str | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """A command run in a running container (see `entering`); never raises on its exit.

    Exit code 125 and podman's words when the container is not running, 124 when it outlives `timeout`.
    """
    prefix = entering(container, user)
    if prefix is None and os.geteuid() == 0:
        return subprocess.CompletedProcess(command, 125, "", f"{container}: container is not running")
    if prefix is None:
        prefix = ["podman", "exec", "-i", container, *_as_user(user)]
    try:
        return subprocess.run(
            [*prefix, *command],
            input=stdin, capture_output=True, text=True, env=project_env(), timeout=timeout, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        said = f"{' '.join(command)}: killed after {timeout:.0f} s; the container's processes then:\n"
        return subprocess.CompletedProcess(command, 124, "", said + _processes(prefix))


def _processes(prefix: list[str]) -> str:
    """The process table seen through `prefix`: what a command that timed out was waiting for
    (a CI run once said only "killed after 600 s")."""
    try:
        table = subprocess.run(
            [*prefix, "ps", "-eo", "pid,ppid,stat,wchan:24,etime,args"],
            capture_output=True, text=True, env=project_env(), timeout=60, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return "(ps did not answer within 60 s)"
    return table.stdout or table.stderr


def on(container: str, *command: str, user: str = "root") -> str:
    """stdout of a command in a container (fails the test when it fails)."""
    result = inside(container, *command, user=user)
    assert result.returncode == 0, f"{' '.join(command)} on {container}: {result.stderr}"
    return result.stdout.strip()


def sql(container: str, query: str, database: str = "postgres") -> str:
    """A query's result as psql prints it unaligned, run as postgres in a container."""
    return on(container, "psql", "-XAtq", "-d", database, "-c", query, user="postgres")


def build_and_install(work: Path, target: Path) -> Path:
    """The collection's tarball built into `work` and installed under `target` (as
    target/ansible_collections/groundwork/infra), without its dependencies: returns the tarball."""
    built = run(["ansible-galaxy", "collection", "build", "--output-path", str(work), str(ROOT)])
    assert built.returncode == 0, tail(built.stdout + built.stderr)
    tarball = next(work.glob("groundwork-infra-*.tar.gz"))
    # --no-deps: Galaxy is unreachable, the dependencies come from .collections;
    # --force: the symlinked working tree there would otherwise count as "already installed".
    done = run(["ansible-galaxy", "collection", "install", "--no-deps", "--force", "-p", str(target), str(tarball)])
    assert done.returncode == 0, tail(done.stdout + done.stderr)
    return tarball


def tail(text: str, lines: int = 80) -> str:
    return "\n".join(text.splitlines()[-lines:])


class Figures:
    """Lines a test measured; conftest.py prints them above pytest's summary."""

    def __init__(self, node: pytest.Item) -> None:
        self._node = node

    def append(self, line: str) -> None:
        self._node.user_properties.append(("figure", line))

    def extend(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.append(line)

    def lines(self) -> list[str]:
        return [value for key, value in self._node.user_properties if key == "figure"]


def wait_for(what: str, check, timeout: float, interval: float = 2.0):
    """What `check` returns once it is truthy, asked every `interval` seconds; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


def holds_address(container: str, address: str) -> bool:
    """Whether a running container's interfaces hold an IPv4 address (a floating one, say); a stopped one holds none."""
    return f" {address}/" in inside(container, "ip", "-4", "-o", "a").stdout
