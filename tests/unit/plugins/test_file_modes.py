"""file_modes: directories and links asked for are made as their entry says, in check mode only predicted."""

from types import SimpleNamespace

from ansible_collections.groundwork.infra.plugins.modules.file_modes import created_directory, diff_line, linked

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


def test_a_link_replaces_a_file_or_another_link_and_says_what_it_pointed_at(tmp_path):
    zone, other, path = tmp_path / "Berlin", tmp_path / "UTC", tmp_path / "localtime"
    zone.write_text("TZif")
    other.write_text("TZif")
    path.write_text("a copy, as some images have")
    assert linked(str(path), str(zone), check_mode=False) == {
        "path": str(path),
        "before": {"target": ""},
        "after": {"target": str(zone)},
    }
    assert path.is_symlink()
    assert path.readlink() == zone
    assert linked(str(path), str(other), check_mode=False)["before"] == {"target": str(zone)}
    assert linked(str(path), str(other), check_mode=False) is None  # already points there
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Berlin", "UTC", "localtime"]  # nothing staged is left


def test_check_mode_predicts_a_link_and_makes_none(tmp_path):
    path = tmp_path / "localtime"
    change = linked(str(path), "/usr/share/zoneinfo/UTC", check_mode=True)
    assert change == {"path": str(path), "before": {}, "after": {"target": "/usr/share/zoneinfo/UTC"}}
    assert not path.is_symlink()
    assert not path.exists()
    assert diff_line(change["path"], change["after"]) == f"{path} -> /usr/share/zoneinfo/UTC\n"
