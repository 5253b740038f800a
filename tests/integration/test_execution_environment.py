"""The execution environment as AWX/AAP runs it: built here (scripts/build-ee: ansible-builder,
podman, the lab's Debian image, no registry), then site.yml from inside the image repairing drift
on the converged lab, with the collection the image holds, not this checkout's.

It runs on the lab's worker right after test_lab_site.py (tests/conftest.py), while the lab is as
site.yml left it.
"""

from __future__ import annotations

import json
import re
import time

import groundwork_runner
import pytest
import yaml
from harness import ROOT, Figures, changed_tasks, inside, recap, run, tail, warnings_in
from lab import FAR_SCHEDULES, LAB_HOSTS, PAUSED, PREFIX
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


# The fault: on a converged host the roles read the host once and leave out the module runs the read
# finds nothing for (the services, locales, admin accounts and keys, keyword files, the TLS key and
# certificate, pgBackRest's SSH). A read that misjudged would leave drift in place while reporting
# the host as it should be.
# Two hosts drift, a database host and the repository host. Check mode, through the ansible-runner
# wrapper as other tooling would ask "what would change?", must predict the repair task by task there
# and no change on the other four (a primary, a replica, the monitoring and the restore host): every
# role's check mode on converged hosts, and roles that fight over a file would show. The repair then
# runs from inside the image, as AWX runs site.yml: with the image's collection and its dependencies,
# on six real hosts, site.yml's second run on the four, and it must do no more than check mode said.
# (One check-mode run of site.yml serves both: the suite's lab chain is its critical path.)
STRAY_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFRPE5ltIoHn3gTECbcZSIZCnGkGmWLZND3eyGUIkpmr intruder@elsewhere"
DRIFT = {
    "pg2": [
        "systemctl disable --now chrony",
        "ln -sf /usr/share/zoneinfo/Asia/Tokyo /etc/localtime",
        "sed -i 's/^UMASK.*/UMASK 022/' /etc/login.defs",
        "sed -i 's/^ENABLED=.*/ENABLED=\"false\"/' /etc/default/sysstat",
        "sed -i 's/^MAILTO=.*/MAILTO=\"root\"/' /etc/chkrootkit/chkrootkit.conf",
        "systemctl stop fail2ban",
        "rm /etc/postgresql/15/main/tls/server.crt",
        "chmod 0640 /etc/postgresql/15/main/tls/server.key",
        "sed -i '/ssh-ed25519/d' /var/lib/postgresql/.ssh/known_hosts",
        # Someone else's key beside the admin's, and the admin's shell changed.
        f"echo '{STRAY_KEY}' >> /home/labadmin/.ssh/authorized_keys",
        "usermod --shell /bin/sh labadmin",
    ],
    # Disabled, not stopped: the lab is reached over SSH.
    "backup1": ["systemctl disable --now pgbackrest-main-full.timer", "systemctl disable ssh"],
}
REPAIRED = {
    "pg2": [
        "systemctl is-active chrony",
        "systemctl is-enabled chrony",
        'test "$(readlink /etc/localtime)" = /usr/share/zoneinfo/Etc/UTC',
        "grep -qx 'UMASK\t027' /etc/login.defs",
        "grep -qx 'ENABLED=\"true\"' /etc/default/sysstat",
        "grep -qx 'MAILTO=\"\"' /etc/chkrootkit/chkrootkit.conf",
        "systemctl is-active fail2ban",
        "openssl x509 -in /etc/postgresql/15/main/tls/server.crt -noout -checkend 86400",
        'test "$(stat -c %a /etc/postgresql/15/main/tls/server.key)" = 600',
        "grep -q ssh-ed25519 /var/lib/postgresql/.ssh/known_hosts",
        "! grep -q intruder /home/labadmin/.ssh/authorized_keys",
        "test $(wc -l < /home/labadmin/.ssh/authorized_keys) = 1",
        'test "$(getent passwd labadmin | cut -d: -f7)" = /bin/bash',
    ],
    "backup1": ["systemctl is-active pgbackrest-main-full.timer", "systemctl is-enabled ssh"],
}


def test_check_mode_predicts_the_repair_of_drift_and_site_yml_from_the_image_does_nothing_else(
    lab_env, built, figures: Figures
) -> None:
    for host, commands in DRIFT.items():
        for command in commands:
            done = inside(PREFIX + host, "sh", "-c", command)
            assert done.returncode == 0, (host, command, done.stderr)
    report = groundwork_runner.check(
        "groundwork.infra.site",
        ROOT / "inventories" / "lab",
        extravars={"pgbackrest_schedules": FAR_SCHEDULES},
        envvars={key: lab_env[key] for key in ("GROUNDWORK_LAB_PREFIX", "ANSIBLE_CACHE_PLUGIN_CONNECTION")},
    )
    assert report.result.ok, report.result
    assert set(report.result.hosts) == LAB_HOSTS
    predicted = {host: {change.task for change in changes} for host, changes in report.changes.items()}
    assert set(predicted) == set(DRIFT), f"check mode predicted changes on more than the drifted hosts: {predicted}"

    started = time.monotonic()
    rc, out = in_image(lab_env, "ansible-playbook", "-i", "inventories/lab", "groundwork.infra.site", *PAUSED, lab=True)
    took = time.monotonic() - started
    assert rc == 0, tail(out)
    assert warnings_in(out) == []
    assert set(recap(out)) == LAB_HOSTS, tail(out)
    # No more than check mode said; it may say more where an earlier task repairs what a later one
    # checks (sshd enabled again by the pgBackRest role before hardening's service task looks).
    changed = changed_tasks(out)
    assert set(changed) == set(DRIFT), f"site.yml's second run changed {changed}, not only the drifted hosts"
    unforeseen = {host: tasks - predicted[host] for host, tasks in changed.items() if tasks - predicted[host]}
    assert unforeseen == {}, f"changes check mode did not predict: {unforeseen}"
    for host, checks in REPAIRED.items():
        for check in checks:
            done = inside(PREFIX + host, "sh", "-c", check)
            assert done.returncode == 0, (host, check, done.stdout, done.stderr)
    figures.append(f"execution environment: site.yml from inside it repaired two drifted lab hosts in {took:.0f} s")
