"""The `groundwork` command: exit codes, --json, plain and terminal output, clean errors."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest
from groundwork_runner.cli import playbook_name
from runner_harness import SECRET, ansible_processes


def groundwork(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "groundwork_runner.cli", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


@pytest.mark.parametrize(
    ("playbook", "inventory", "code"),
    [("ok.yml", "hosts.ini", 0), ("fail.yml", "hosts.ini", 2), ("ping.yml", "unreachable.ini", 3)],
)
def test_exit_codes(workdir, playbook, inventory, code):
    done = groundwork("run", str(workdir / playbook), "-i", str(workdir / inventory))
    assert done.returncode == code, done.stdout + done.stderr


def test_timeout_exits_4(workdir):
    done = groundwork("run", str(workdir / "slow.yml"), "-i", str(workdir / "one.ini"), "--timeout", "2")
    assert done.returncode == 4
    assert "timeout" in done.stdout


def test_json_prints_the_result_only(workdir):
    done = groundwork("run", str(workdir / "fail.yml"), "-i", str(workdir / "hosts.ini"), "--json")
    result = json.loads(done.stdout)
    assert result["status"] == "failed"
    assert result["hosts"]["h2"]["failed"] == 1
    assert result["failed_tasks"] == [
        {"host": "h2", "task": "Fail on h2 only", "message": "h2 is broken on purpose", "unreachable": False}
    ]


def test_plain_output_when_not_a_terminal(workdir):
    done = groundwork("run", str(workdir / "fail.yml"), "-i", str(workdir / "hosts.ini"), "-e", "marker=x")
    lines = done.stdout.splitlines()
    assert "TASK Fail on h2 only" in lines
    assert "  failed: h2: h2 is broken on purpose" in lines
    assert "\r" not in done.stdout
    assert any(line.startswith("HOST") for line in lines)
    assert lines[-1].startswith("failed (rc=2)")


def test_live_progress_on_a_terminal(workdir):
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI on a pseudo-terminal
        os.execv(
            sys.executable,
            [
                sys.executable,
                "-m",
                "groundwork_runner.cli",
                "run",
                str(workdir / "ok.yml"),
                "-i",
                str(workdir / "hosts.ini"),
            ],
        )
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    screen = b"".join(chunks).decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0
    assert "\r\x1b[K[" in screen  # the live status line is redrawn in place
    assert "hosts] Say hello" in screen
    assert "ok=" in screen
    assert "changed=" in screen
    assert "successful (rc=0)" in screen


def test_secret_extravar_is_not_echoed(workdir):
    done = groundwork("run", str(workdir / "ok.yml"), "-i", str(workdir / "hosts.ini"), "-e", f"db_password={SECRET}")
    assert done.returncode == 0
    assert SECRET not in done.stdout + done.stderr


def test_sigterm_cancels_the_run_and_leaves_no_ansible_process(workdir):
    process = subprocess.Popen(
        [sys.executable, "-m", "groundwork_runner.cli", "run", str(workdir / "slow.yml"),
         "-i", str(workdir / "one.ini")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not ansible_processes(str(workdir / "slow.yml")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 4, out + err
    assert "canceled" in out
    time.sleep(1)
    assert ansible_processes(str(workdir / "slow.yml")) == []


@pytest.mark.parametrize("value", ["a='unterminated s3cr3t-Value", "{not: [json s3cr3t-Value"])
def test_an_unparsable_extra_var_is_not_echoed(workdir, value):
    done = groundwork("run", str(workdir / "ok.yml"), "-i", str(workdir / "hosts.ini"), "-e", "x=1", "-e", value)
    assert done.returncode == 1
    assert "-e value 2" in done.stderr
    assert "s3cr3t-Value" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.yml", "-i", "hosts.ini"], "playbook not found: missing.yml"),
        (["run", "ok.yml", "-i", "missing.ini"], "inventory not found: missing.ini"),
        (["run", "ok.yml", "-i", "hosts.ini", "-e", "not a pair"], "is not key=value"),
        (["run", "ok.yml", "-i", "hosts.ini", "-e", "@nothere.yml"], "cannot read extra vars file"),
        (["run", "nosuchplaybook", "-i", "hosts.ini"], "groundwork.infra.nosuchplaybook"),
    ],
)
def test_usage_errors_exit_1_with_a_message_and_no_traceback(workdir, args, message):
    done = groundwork(*args, cwd=workdir)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_inventory_command(workdir):
    done = groundwork("inventory", "-i", str(workdir / "hosts.ini"))
    assert done.returncode == 0
    assert set(json.loads(done.stdout)["_meta"]["hostvars"]) == {"h1", "h2"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("site", "groundwork.infra.site"),
        ("groundwork.infra.site", "groundwork.infra.site"),
        ("playbooks/site.yml", "playbooks/site.yml"),
        ("other.coll.play", "other.coll.play"),
    ],
)
def test_playbook_names(given, expected):
    assert playbook_name(given) == expected
