"""ansible-test sanity, run for real on the collection as Galaxy ships it, with an empty ignore file.

The tarball's tree (what `ansible-galaxy collection build` keeps: plugins, roles, playbooks, meta,
docs) is installed as ansible_collections/groundwork/infra beside the vendored collections it
depends on, and ansible-test runs there offline: --local (this venv's ansible-core), each test's
own virtual environment made by ansible-test with pip from scripts/setup.sh (tests/sanity/get_pip.py).
The development tree (tests, scripts, runner, molecule) is ruff's and mypy's (tests/lint).
"""

import re
import shutil
import sys

from ansible.release import __version__ as ansible_core
from harness import ROOT, build_and_install, run, tail

IGNORES = "ignore-{}.{}.txt".format(*ansible_core.split(".")[:2])
# pip's, not ansible-test's: this machine's pip configuration names an index directory that is not
# there, and pip says so while ansible-test fills a test's virtual environment.
PIP_CONFIG_NOTE = re.compile(r"WARNING: Location '[^']+' is ignored")


def installed_collection(work):
    build_and_install(work, work)
    collection = work / "ansible_collections" / "groundwork" / "infra"
    # The dependencies (doc fragments, module_utils) where ansible-test looks for them: the same root.
    vendored = ROOT / ".collections" / "ansible_collections"
    for namespace in vendored.iterdir():
        if namespace.name != "groundwork":
            (work / "ansible_collections" / namespace.name).symlink_to(namespace)
    (collection / "tests" / "sanity").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "sanity" / IGNORES, collection / "tests" / "sanity" / IGNORES)
    return collection


def test_ansible_test_sanity_passes_with_an_empty_ignore_file(tmp_path):
    collection = installed_collection(tmp_path)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    result = run(["ansible-test", "sanity", "--local", "--python", python, "--color", "no"], cwd=collection)
    output = result.stdout + result.stderr
    assert result.returncode == 0, tail(output, 120)
    # Every test ran (none skipped for a missing tool or locale) and found nothing.
    complaints = [
        line for line in output.splitlines() if re.match(r"(ERROR|WARNING): ", line) and not PIP_CONFIG_NOTE.match(line)
    ]
    assert not complaints, "\n".join(complaints)
