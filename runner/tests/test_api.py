"""run_playbook, start_playbook, check and inventory against local-connection hosts."""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from groundwork_runner import (
    AnsibleNotFoundError,
    EventCallbackError,
    InvalidExtravarsError,
    InventoryNotFoundError,
    PlaybookNotFoundError,
    RunStatus,
    check,
    inventory,
    run_playbook,
    start_playbook,
)
from runner_harness import SECRET, VAULT_PASSWORD, ansible_processes, files_containing


@pytest.fixture(autouse=True)
def own_tmpdir(tmp_path, monkeypatch) -> None:
    """A system temp dir of each test's own: other runs on the machine (the lab test on the
    other xdist worker, a user's playbook) create and remove data dirs under /tmp meanwhile."""
    path = tmp_path / "system-tmp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))


def leftover_run_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("groundwork-run-*")}


def test_success_reports_every_host(workdir):
    before = leftover_run_dirs()
    result = run_playbook(workdir / "ok.yml", workdir / "hosts.ini", extravars={"marker": "m1"})
    assert result.status is RunStatus.SUCCESSFUL
    assert result.ok
    assert result.rc == 0
    assert set(result.hosts) == {"h1", "h2"}
    assert result.hosts["h1"].ok == 3
    assert result.hosts["h1"].changed == 1
    assert result.failed_tasks == ()
    assert result.duration > 0
    assert result.artifact_dir is None
    assert leftover_run_dirs() == before, "the private data dir must be removed"


def test_failing_task_names_host_task_and_message(workdir):
    result = run_playbook(workdir / "fail.yml", workdir / "hosts.ini")
    assert result.status is RunStatus.FAILED
    assert result.rc == 2
    assert result.failed_hosts == ("h2",)
    assert (result.hosts["h1"].ok, result.hosts["h1"].skipped) == (1, 1)
    [failure] = result.failed_tasks
    assert (failure.host, failure.task, failure.message) == ("h2", "Fail on h2 only", "h2 is broken on purpose")
    assert not failure.unreachable


def test_unreachable_host_is_reported(workdir):
    result = run_playbook(workdir / "ping.yml", workdir / "unreachable.ini")
    assert result.unreachable_hosts == ("gone",)
    assert result.hosts["h1"].ok == 1
    [failure] = result.failed_tasks
    assert failure.host == "gone"
    assert failure.unreachable
    assert failure.message


def test_cancel_stops_the_run_and_leaves_no_ansible_process(workdir):
    handle = start_playbook(workdir / "slow.yml", workdir / "one.ini")
    started = time.monotonic()
    for event in handle.events():
        if event.name == "runner_on_start":
            break
    handle.cancel()
    result = handle.wait(timeout=30)
    assert result.status is RunStatus.CANCELED
    assert time.monotonic() - started < 20
    assert ansible_processes(str(workdir / "slow.yml")) == []
    assert ansible_processes("sleep 120") == []


def test_timeout_stops_the_run(workdir):
    started = time.monotonic()
    result = run_playbook(workdir / "slow.yml", workdir / "one.ini", timeout=3)
    assert result.status is RunStatus.TIMEOUT
    assert time.monotonic() - started < 20
    assert ansible_processes(str(workdir / "slow.yml")) == []


def test_secrets_never_reach_events_logs_or_disk(workdir, vault_file, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    events = []
    keep = workdir / "artifacts"
    result = run_playbook(
        workdir / "ok.yml",
        workdir / "hosts.ini",
        extravars={"db_password": SECRET, "vault_file": str(vault_file)},
        vault_password=VAULT_PASSWORD,
        on_event=events.append,
        keep_artifacts=True,
        artifacts_dir=keep,
    )
    assert result.ok, result
    # The vaulted file was read: the vault password reached Ansible.
    lengths = [
        e.data["res"].get("msg") for e in events if e.name == "runner_on_ok" and e.task == "Read the vaulted file"
    ]
    assert lengths == [len("the vaulted content\n")] * 2
    for secret in (SECRET, VAULT_PASSWORD):
        assert not any(secret in repr(event) for event in events)
        assert secret not in caplog.text
        captured = capfd.readouterr()
        assert secret not in captured.out + captured.err
        assert files_containing(keep, secret) == []
        assert files_containing(workdir, secret) == []
    assert result.artifact_dir is not None
    assert (result.artifact_dir / "stdout").is_file()


def test_a_secret_in_envvars_is_in_no_file_left(workdir):
    # ansible-runner writes the full environment into artifacts/<id>/command; an AWS key passed to an
    # inventory plugin through envvars would stay there with the kept artifacts.
    keep = workdir / "artifacts"
    result = run_playbook(
        workdir / "ok.yml",
        workdir / "hosts.ini",
        envvars={"AWS_SECRET_ACCESS_KEY": SECRET},
        keep_artifacts=True,
        artifacts_dir=keep,
    )
    assert result.ok, result
    assert (result.artifact_dir / "command").is_file()
    assert files_containing(keep, SECRET) == []
    assert files_containing(workdir, SECRET) == []


def test_extravars_are_data_unless_the_caller_opts_in(workdir, tmp_path):
    # A string from an untrusted caller must not run Jinja (a lookup, a pipe) on the controller.
    witness = tmp_path / "templated"
    hostile = "{{ lookup('ansible.builtin.pipe', 'touch " + str(witness) + "') }}x"
    events = []
    result = run_playbook(
        workdir / "echo.yml", workdir / "hosts.ini", extravars={"given": hostile}, on_event=events.append
    )
    assert result.ok, result
    shown = [e.data["res"]["msg"] for e in events if e.name == "runner_on_ok" and e.task == "Show it"]
    assert shown == ["got " + hostile]
    assert not witness.exists()
    trusted = run_playbook(
        workdir / "echo.yml", workdir / "hosts.ini", extravars={"given": "{{ 1 + 1 }}"}, template_extravars=True,
        on_event=events.append,
    )  # fmt: skip
    assert trusted.ok, trusted
    assert [e.data["res"]["msg"] for e in events if e.name == "runner_on_ok" and e.task == "Show it"][-1] == "got 2"


def test_rotation_never_removes_a_running_dir(workdir):
    keep = workdir / "artifacts"
    slow = start_playbook(workdir / "slow.yml", workdir / "one.ini", keep_artifacts=True, artifacts_dir=keep)
    try:
        time.sleep(1)
        for _ in range(2):
            run_playbook(workdir / "ok.yml", workdir / "one.ini", keep_artifacts=True, artifacts_dir=keep,
                         rotate_artifacts=1)  # fmt: skip
        assert slow.private_data_dir.is_dir(), "a newer run's rotation removed a run still going"
    finally:
        slow.cancel()
        slow.wait()


def test_private_key_reaches_ssh_agent_only(workdir):
    key = workdir / "id_test"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "runner-test", "-f", str(key)], check=True)
    key_text = key.read_text()
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(key)], capture_output=True, text=True, check=True).stdout
    key.unlink()
    events = []
    keep = workdir / "artifacts"
    result = run_playbook(
        workdir / "agent.yml",
        workdir / "one.ini",
        private_key=key_text,
        on_event=events.append,
        keep_artifacts=True,
        artifacts_dir=keep,
    )
    assert result.ok, result
    [listed] = [e.data["res"]["stdout"] for e in events if e.name == "runner_on_ok"]
    assert fingerprint.split()[1] in listed
    body = key_text.splitlines()[1]
    assert files_containing(keep, body) == []
    assert files_containing(workdir, body) == []


def test_two_threads_keep_their_events_apart(workdir):
    events: dict[str, list] = {"alpha": [], "beta": []}

    def go(marker):
        result = run_playbook(
            workdir / "ok.yml", workdir / "hosts.ini", extravars={"marker": marker}, on_event=events[marker].append
        )
        assert result.ok

    threads = [threading.Thread(target=go, args=(m,)) for m in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for marker, other in (("alpha", "beta"), ("beta", "alpha")):
        hellos = [e.data["res"]["msg"] for e in events[marker] if e.name == "runner_on_ok" and e.task == "Say hello"]
        assert hellos == [f"hello {marker}"] * 2
        assert not any(f"hello {other}" in repr(e) for e in events[marker])
        uuids = {e.uuid for e in events[marker]}
        assert uuids.isdisjoint({e.uuid for e in events[other]})


def test_events_iterator_ends_with_the_run(workdir):
    handle = start_playbook(workdir / "ok.yml", workdir / "one.ini")
    names = [event.name for event in handle.events()]
    assert names[0] == "playbook_on_start"
    assert "playbook_on_stats" in names  # verbose events (the TASKS RECAP) may follow it
    assert handle.wait().ok


def test_callback_error_cancels_and_is_raised(workdir):
    def boom(event):
        if event.name == "runner_on_start":
            raise RuntimeError("caller bug")

    with pytest.raises(EventCallbackError) as caught:
        run_playbook(workdir / "slow.yml", workdir / "one.ini", on_event=boom)
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert ansible_processes(str(workdir / "slow.yml")) == []


def test_check_predicts_changes_without_making_them(workdir):
    target = workdir / "target.txt"
    target.write_text("old content\n")
    report = check(workdir / "write.yml", workdir / "one.ini", extravars={"target_file": str(target)})
    assert report.result.ok
    [change] = report.changes["h1"]
    assert change.task == "Write the file"
    assert change.action == "ansible.builtin.copy"
    assert change.diff[0]["after"] == "new content\n"
    assert target.read_text() == "old content\n"


def test_check_predicts_a_change_whose_result_is_hidden(workdir):
    # no_log hides a task's whole result from the events, "changed" included; the change is still
    # predicted, and nothing of the secret is shown with it.
    target = workdir / "secret.txt"
    target.write_text("old secret\n")
    report = check(
        workdir / "write_secret.yml",
        workdir / "one.ini",
        extravars={"target_file": str(target), "secret_content": "new-secret-value\n"},
    )
    assert report.result.ok
    [change] = report.changes["h1"]
    assert change.task == "Write the secret file"
    assert "new-secret-value" not in repr(change)
    assert target.read_text() == "old secret\n"


def test_inventory_is_parsed(workdir):
    parsed = inventory(workdir / "hosts.ini")
    assert set(parsed["_meta"]["hostvars"]) == {"h1", "h2"}


def test_kept_artifacts_are_rotated(workdir):
    keep = workdir / "artifacts"
    for _ in range(3):
        run_playbook(
            workdir / "ok.yml", workdir / "one.ini", keep_artifacts=True, artifacts_dir=keep, rotate_artifacts=2
        )
    assert len(list(keep.glob("groundwork-run-*"))) == 2


@pytest.mark.parametrize(
    ("playbook", "inv", "extravars", "error"),
    [
        ("missing.yml", "hosts.ini", None, PlaybookNotFoundError),
        ("ok.yml", "missing.ini", None, InventoryNotFoundError),
        ("ok.yml", "hosts.ini", {"when": object()}, InvalidExtravarsError),
        ("ok.yml", "hosts.ini", {1: "x"}, InvalidExtravarsError),
    ],
)
def test_bad_input_raises_before_anything_runs(workdir, playbook, inv, extravars, error):
    before = leftover_run_dirs()
    with pytest.raises(error):
        run_playbook(workdir / playbook, workdir / inv, extravars=extravars)
    assert leftover_run_dirs() == before


def test_unknown_collection_playbook(workdir):
    with pytest.raises(PlaybookNotFoundError, match=r"groundwork\.infra\.nothere"):
        run_playbook("groundwork.infra.nothere", workdir / "hosts.ini")


def test_ansible_not_installed(workdir, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(AnsibleNotFoundError, match="ansible-core"):
        run_playbook(workdir / "ok.yml", workdir / "hosts.ini")


def test_library_logger_has_a_null_handler():
    handlers = logging.getLogger("groundwork_runner").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
    assert os.environ.get("GROUNDWORK_UNUSED") is None
