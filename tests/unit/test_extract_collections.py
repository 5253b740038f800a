"""scripts/extract_collections.py takes exactly the named collections out of a wheel."""

import importlib.util
import json
import zipfile

import pytest
from harness import ROOT

spec = importlib.util.spec_from_file_location("extract_collections", ROOT / "scripts" / "extract_collections.py")
extract_collections = importlib.util.module_from_spec(spec)
spec.loader.exec_module(extract_collections)


@pytest.fixture
def wheel(tmp_path):
    path = tmp_path / "ansible-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, version in (("ansible/posix", "2.1.0"), ("community/general", "11.0.0")):
            info = {"collection_info": {"version": version}}
            archive.writestr(f"ansible_collections/{name}/MANIFEST.json", json.dumps(info))
            archive.writestr(f"ansible_collections/{name}/plugins/modules/x.py", "# module")
        archive.writestr("ansible-1.0.0.dist-info/METADATA", "Name: ansible")
    return path


def test_takes_only_named_collections(wheel, tmp_path, capsys):
    target = tmp_path / "out" / "ansible_collections"
    extract_collections.extract(wheel, target, ["ansible.posix"])
    assert (target / "ansible" / "posix" / "plugins" / "modules" / "x.py").is_file()
    assert not (target / "community").exists()
    assert not (tmp_path / "out" / "ansible-1.0.0.dist-info").exists()
    assert capsys.readouterr().out == "ansible.posix 2.1.0\n"


def test_unknown_collection_is_an_error(wheel, tmp_path):
    with pytest.raises(SystemExit, match=r"community\.nothing is not in ansible-1\.0\.0"):
        extract_collections.extract(wheel, tmp_path / "ansible_collections", ["community.nothing"])
