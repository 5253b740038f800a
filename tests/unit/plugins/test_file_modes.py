"""file_modes: directories asked for are created with what their entry says, in check mode only predicted."""

from types import SimpleNamespace

from ansible_collections.groundwork.infra.plugins.modules.file_modes import created_directory

ENTRY = {"owner": None, "group": None, "mode": "0750", "state": "directory"}


def test_a_missing_directory_and_its_parents_are_created_with_the_mode_asked(tmp_path):
    path = tmp_path / "etc" / "needrestart" / "conf.d"
    change = created_directory({**ENTRY, "path": str(path)}, -1, -1, 0o750, SimpleNamespace(check_mode=False))
    assert path.is_dir()
    assert oct(path.stat().st_mode & 0o7777) == "0o750"
    assert change["before"] == {}
    assert change["after"]["mode"] == "0750"


def test_check_mode_predicts_the_directory_and_creates_nothing(tmp_path):
    path = tmp_path / "conf.d"
    change = created_directory({**ENTRY, "path": str(path)}, -1, -1, 0o750, SimpleNamespace(check_mode=True))
    assert not path.exists()
    assert change == {"path": str(path), "before": {}, "after": {"owner": "", "group": "", "mode": "0750"}}
