"""The linters the collection promises to pass, each as a test."""

import pytest
from harness import project_env, run, tail


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["yamllint", "--strict", "."], id="yamllint"),
        pytest.param(["ruff", "check", "."], id="ruff"),
        pytest.param(["ruff", "format", "--check", "."], id="ruff-format"),
        pytest.param(["antsibull-changelog", "lint"], id="changelog-fragments"),
        # The GitHub Actions workflows, their shell steps through shellcheck.
        pytest.param(["actionlint"], id="actionlint"),
    ],
)
def test_linter_passes(command):
    result = run(command)
    assert result.returncode == 0, tail(result.stdout + result.stderr)


def test_ansible_lint_production_profile(tmp_path):
    # A HOME of its own: ansible-lint searches ~/.ansible/collections first, and an older copy of
    # this collection there (Molecule's prerun of another checkout installs one) would be linted
    # in place of this checkout's roles.
    result = run(["ansible-lint", "--offline"], env=project_env(HOME=str(tmp_path)))
    assert result.returncode == 0, tail(result.stdout + result.stderr)
    assert "Profile 'production' was required, and it passed" in result.stdout + result.stderr


def test_sanity_ignore_file_stays_empty(root):
    ignores = root / "tests" / "sanity" / "ignore-2.19.txt"
    assert ignores.is_file()
    assert ignores.read_text() == ""


def test_runner_api_is_fully_typed():
    result = run(["mypy", "--strict", "--ignore-missing-imports", "runner/src"])
    assert result.returncode == 0, tail(result.stdout + result.stderr)
