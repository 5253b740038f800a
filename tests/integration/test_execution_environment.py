"""The execution environment as AWX/AAP runs it: built here (scripts/build-ee: ansible-builder,
podman, the lab's Debian image, no registry), then site.yml in check mode from inside the image
against the converged lab, with the collection the image holds, not this checkout's.

It runs on the lab's worker right after test_lab_site.py (tests/conftest.py), while the lab is as
site.yml left it: about two minutes of the suite, the build included.
"""

from __future__ import annotations

import json
import re
import time

import pytest
import yaml
from harness import ROOT, Figures, changed_tasks, run, tail, warnings_in
from lab import PAUSED
from packaging.specifiers import SpecifierSet

IMAGE = "localhost/groundwork-ee:test"
IN_IMAGE = "/usr/share/ansible/collections"

pytestmark = pytest.mark.usefixtures("converged_lab")


@pytest.fixture(scope="module")
def built(lab_env: dict[str, str]) -> str:
    """What scripts/build-ee printed: the image's size and the build's time."""
    result = run([str(ROOT / "scripts" / "build-ee"), "--tag", IMAGE], env=lab_env, timeout=900)
    assert result.returncode == 0, tail(result.stdout + result.stderr)
    assert not warnings_in(result.stdout + result.stderr)
    return result.stdout


def in_image(env: dict[str, str], *command: str, lab: bool = False) -> tuple[int, str]:
    """A command in the image, as an execution node runs one: on the admin network (the host's, which
    the lab's firewalls let reach SSH), the checkout read-only, Ansible told to use the image's
    collections, root (the lab's SSH key is root's, mode 0600)."""
    options = ["--user", "0", "--network", "host", "-v", f"{ROOT}:{ROOT}:ro", "-w", str(ROOT)]
    settings = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),  # the lab's connection settings …
        "ANSIBLE_COLLECTIONS_PATH": IN_IMAGE,  # … but not its .collections
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": "/tmp/facts",
        "ANSIBLE_LOCAL_TEMP": "/tmp/ansible-local",
        **({"GROUNDWORK_LAB_PREFIX": env["GROUNDWORK_LAB_PREFIX"]} if lab else {}),
    }
    for name, value in settings.items():
        options += ["-e", f"{name}={value}"]
    result = run(["podman", "run", "--rm", *options, IMAGE, *command], env=env, timeout=900)
    return result.returncode, result.stdout + result.stderr


def test_the_image_holds_the_collection_its_dependencies_and_their_python_libraries(lab_env, built, figures: Figures):
    code, output = in_image(lab_env, "ansible-galaxy", "collection", "list", "--format", "json")
    assert code == 0, tail(output)
    listed = json.loads(output)  # by path: ansible-core's own internal one, and the image's
    installed = listed[f"{IN_IMAGE}/ansible_collections"]
    assert not any("groundwork.infra" in found for path, found in listed.items() if not path.startswith(IN_IMAGE))
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert installed["groundwork.infra"]["version"] == galaxy["version"]
    for name, wanted in galaxy["dependencies"].items():
        assert name in installed, f"{name} is not in the image"
        assert installed[name]["version"] in SpecifierSet(wanted), (name, installed[name], wanted)
    libraries = "import boto3, botocore, bcrypt, psycopg, ansible_runner"
    code, output = in_image(lab_env, "python3", "-c", libraries)
    assert code == 0, tail(output)
    size = re.search(r"image \S+: (\d+) MiB", built)
    took = re.search(r"built in (\d+) s wall, (\d+) CPU-s", built)
    assert size, built
    assert took, built
    figures.append(f"execution environment: {size[1]} MiB, built in {took[1]} s ({took[2]} CPU-s)")


def test_site_check_from_inside_the_image_changes_nothing_on_the_converged_lab(lab_env, built, figures: Figures):
    started = time.monotonic()
    code, output = in_image(
        lab_env, "ansible-playbook", "-i", "inventories/lab", "groundwork.infra.site", "--check", *PAUSED, lab=True
    )
    assert code == 0, tail(output)
    assert not warnings_in(output)
    assert changed_tasks(output) == {}, tail(output)
    recap = re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", output, re.MULTILINE)
    assert {host for host, _ in recap} == {"pg1", "pg2", "pg3", "backup1", "restore1", "mon1"}, tail(output)
    assert {changed for _, changed in recap} == {"0"}, tail(output)
    took = time.monotonic() - started
    figures.append(f"execution environment: site.yml --check from inside it on the lab: no change, {took:.0f} s")
