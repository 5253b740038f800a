"""groundwork.infra.podman_exec entering with nsenter: the task sees the container as `podman exec` shows it.

The Molecule scenarios run every task this way (about 0.02 CPU-s a task instead of 0.25), so what a
role meets there must be what `podman exec` gives: the container's cgroups (a process a task leaves
behind is stopped with the container), its capabilities, resource limits, umask, working directory,
environment. (A task as another user goes through podman exec.)
"""

import time

import pytest
from harness import run, tail

CONTAINER = "gw-podman-exec-test"
IMAGE = "localhost/groundwork-debian:12"
PROBE = (
    "cat /proc/self/cgroup; grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status; ulimit -n; ulimit -Hn;"
    " umask; pwd; env | grep -v '^PWD=' | sort; id; hostname"
)


def podman(*args: str) -> str:
    done = run(["podman", *args], timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def container():
    run(["podman", "rm", "--force", "--time", "0", CONTAINER])
    podman("run", "-d", "--name", CONTAINER, "--network", "none", "--systemd=always", IMAGE, "/sbin/init")
    yield CONTAINER
    run(["podman", "rm", "--force", "--time", "0", CONTAINER])


def probe(enter: str) -> tuple[int, str]:
    """What a command task sees in the container, entered one way; (exit code, output)."""
    done = run([
        "ansible", "all", "-i", f"{CONTAINER},", "-c", "groundwork.infra.podman_exec",
        "-e", f"ansible_podman_exec_enter={enter}", "-e", "ansible_python_interpreter=/usr/bin/python3",
        "-m", "ansible.builtin.shell", "-a", PROBE,
    ], timeout=120)  # fmt: skip
    return done.returncode, done.stdout.partition(">>")[2].strip() or done.stdout + done.stderr


def test_a_task_entered_with_nsenter_sees_what_podman_exec_shows(container):
    podman_rc, through_podman = probe("podman")
    nsenter_rc, through_nsenter = probe("nsenter")
    assert (podman_rc, nsenter_rc) == (0, 0), (through_podman, through_nsenter)
    assert "libpod" in through_nsenter, "the task ran outside the container's cgroups"
    assert through_nsenter == through_podman


def test_a_restarted_container_is_entered_anew_and_a_stopped_one_is_unreachable(container):
    rc, before = probe("nsenter")
    assert rc == 0, before
    podman("restart", "--time", "0", CONTAINER)
    time.sleep(1)
    rc, after = probe("nsenter")
    assert rc == 0, after
    assert after == before
    podman("stop", "--time", "0", CONTAINER)
    try:
        rc, out = probe("nsenter")
        assert rc != 0
        assert f"container {CONTAINER} is not running" in out, tail(out)
    finally:
        podman("start", CONTAINER)


def test_a_reset_connection_forgets_the_container_quietly_and_the_next_task_enters_it(container, tmp_path):
    # The patch role resets the connection after restarts; the base plugin's reset only warns.
    playbook = tmp_path / "reset.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.command: 'true'\n"
        "    - ansible.builtin.meta: reset_connection\n"
        "    - ansible.builtin.command: hostname\n"
    )
    done = run([
        "ansible-playbook", "-i", f"{CONTAINER},", "-c", "groundwork.infra.podman_exec",
        "-e", "ansible_python_interpreter=/usr/bin/python3", str(playbook),
    ], timeout=120)  # fmt: skip
    assert done.returncode == 0, tail(done.stdout + done.stderr)
    assert "WARNING" not in done.stdout + done.stderr, tail(done.stdout + done.stderr)
