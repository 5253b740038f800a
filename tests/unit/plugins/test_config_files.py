"""config_files: several whole files in one run, each checked before any is installed."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.groundwork.infra.plugins.modules import config_files


def run(capsys: pytest.CaptureFixture[str], files: list[dict], check_mode: bool = False, diff: bool = False) -> dict:
    args = {"files": files, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
    with patch_module_args(args), pytest.raises(SystemExit):
        config_files.main()
    return json.loads(capsys.readouterr().out)


def mode_of(path) -> str:
    return oct(path.stat().st_mode & 0o7777)


def test_new_files_are_written_with_their_mode_and_a_second_run_changes_nothing(tmp_path, capsys):
    cron, at = tmp_path / "cron.allow", tmp_path / "at.allow"
    files = [
        {"path": str(cron), "content": "root\n", "mode": "0600"},
        {"path": str(at), "content": "root\n", "mode": "0600"},
    ]
    first = run(capsys, files)
    assert first["changed_files"] == [str(cron), str(at)]
    assert cron.read_text() == "root\n"
    assert mode_of(at) == "0o600"
    second = run(capsys, files)
    assert second["changed"] is False
    assert second["changed_files"] == []


def test_a_refused_file_leaves_every_file_of_the_call_as_it_was(tmp_path, capsys):
    good, bad = tmp_path / "good.conf", tmp_path / "bad.conf"
    good.write_text("old\n")
    result = run(
        capsys,
        [
            {"path": str(good), "content": "new\n", "validate": "grep -q new %s"},
            {"path": str(bad), "content": "broken\n", "validate": "grep -q valid %s"},
        ],
    )
    assert result["failed"] is True
    assert f"{bad} was not installed" in result["msg"]
    assert good.read_text() == "old\n"
    assert not bad.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.conf"], "a staged copy was left behind"


def test_check_mode_predicts_text_and_mode_changes_and_writes_nothing(tmp_path, capsys):
    text, mode = tmp_path / "text.conf", tmp_path / "mode.conf"
    text.write_text("old\n")
    mode.write_text("same\n")
    mode.chmod(0o644)
    result = run(
        capsys,
        [
            {"path": str(text), "content": "new\n", "validate": "false %s"},
            {"path": str(mode), "content": "same\n", "mode": "0600"},
            {"path": str(tmp_path / "new.conf"), "content": "x\n"},
        ],
        check_mode=True,
        diff=True,
    )
    assert result["changed_files"] == [str(text), str(mode), str(tmp_path / "new.conf")]
    assert text.read_text() == "old\n"
    assert mode_of(mode) == "0o644"
    assert not (tmp_path / "new.conf").exists()
    assert [d["after"] for d in result["diff"]] == ["new\n", "x\n"]


def test_only_the_mode_differs_so_only_the_mode_changes(tmp_path, capsys):
    path = tmp_path / "faillock.conf"
    path.write_text("deny = 5\n")
    path.chmod(0o664)
    result = run(capsys, [{"path": str(path), "content": "deny = 5\n", "mode": "0644"}], diff=True)
    assert result["changed_files"] == [str(path)]
    assert result["diff"] == []
    assert mode_of(path) == "0o644"


def test_a_changed_file_keeps_its_mode_when_none_is_asked(tmp_path, capsys):
    path = tmp_path / "kept.conf"
    path.write_text("old\n")
    path.chmod(0o640)
    run(capsys, [{"path": str(path), "content": "new\n"}])
    assert mode_of(path) == "0o640"


def test_absent_removes_and_then_has_nothing_to_do(tmp_path, capsys):
    path = tmp_path / "cron.deny"
    path.write_text("nobody\n")
    assert run(capsys, [{"path": str(path), "state": "absent"}])["changed_files"] == [str(path)]
    assert not path.exists()
    assert run(capsys, [{"path": str(path), "state": "absent"}])["changed"] is False


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"path": "/nonexistent-dir/x.conf", "content": "x"}, "/nonexistent-dir/x.conf: its directory does not exist"),
        ({"path": "{tmp}/x.conf"}, "content is required when state is present"),
        ({"path": "{tmp}/x.conf", "content": "x", "validate": "sshd -t"}, "validate must contain %s"),
    ],
)
def test_a_bad_request_is_refused_before_anything_is_read_or_written(tmp_path, capsys, entry, message):
    entry = {**entry, "path": entry["path"].format(tmp=tmp_path)}
    result = run(capsys, [entry])
    assert result["failed"] is True
    assert message in result["msg"]
    assert list(tmp_path.iterdir()) == []


def test_check_mode_reports_a_file_whose_directory_an_earlier_task_would_make(tmp_path, capsys):
    # A role adding a drop-in: its directory task runs before, in check mode making nothing.
    path = tmp_path / "chkrootkit.timer.d" / "70-groundwork.conf"
    result = run(capsys, [{"path": str(path), "content": "[Timer]\n"}], check_mode=True)
    assert result["changed_files"] == [str(path)]
    assert list(tmp_path.iterdir()) == []


def test_the_same_path_twice_is_refused(tmp_path, capsys):
    entry = {"path": str(tmp_path / "x.conf"), "content": "x"}
    assert "is given twice" in run(capsys, [entry, entry])["msg"]


def test_an_entry_not_enabled_is_left_alone(tmp_path, capsys):
    path = tmp_path / "limits.conf"
    path.write_text("local\n")
    result = run(capsys, [{"path": str(path), "content": "ours\n", "enabled": False}])
    assert result["changed"] is False
    assert path.read_text() == "local\n"
