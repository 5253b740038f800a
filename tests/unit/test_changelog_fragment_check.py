"""scripts/check-changelog-fragment on a repository of its own: what needs a fragment and what does not."""

import shutil
import subprocess

import pytest
from harness import ROOT

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "check-changelog-fragment", tmp_path / "scripts")
    for path in ("plugins/modules/m.py", "tests/unit/test_m.py", "changelogs/fragments/.keep"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*GIT, "commit", "-qm", "base"], cwd=tmp_path, check=True)
    return tmp_path


def change(repo, *paths):
    for path in paths:
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text("changed\n")
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-qm", "change"], cwd=repo, check=True)
    return subprocess.run(
        ["scripts/check-changelog-fragment", "main~1"], cwd=repo, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("paths", "needed"),
    [
        (["plugins/modules/m.py"], True),
        (["roles/server/tasks/main.yml"], True),
        (["plugins/modules/m.py", "changelogs/fragments/fix-m.yml"], False),
        (["tests/unit/test_m.py"], False),
        (["README.md", "scripts/bench.py"], False),
    ],
    ids=["module", "role", "module with fragment", "tests only", "docs and scripts"],
)
def test_a_shipped_change_needs_a_fragment(repo, paths, needed):
    result = change(repo, *paths)
    assert result.returncode == (1 if needed else 0), result.stdout + result.stderr
    if needed:
        assert paths[0] in result.stderr
