"""groundwork.infra.deb_upgrades_info as a table: apt-get's simulation in, the upgrade plan out."""

import pytest
from ansible_collections.groundwork.infra.plugins.module_utils.deb import (
    chosen_upgrades,
    kernel_among,
    simulated_changes,
)

# apt-get --simulate upgrade --with-new-pkgs on Debian 12, with a point release and a security update.
SIMULATION = """Reading package lists...
Building dependency tree...
Calculating upgrade...
The following NEW packages will be installed:
  linux-image-6.1.0-28-amd64
Inst libssl3 [3.0.20-1~deb12u2] (3.0.22-1~deb12u2 Debian-Security:12/oldstable-security [amd64])
Inst tzdata [2026b-0+deb12u1] (2026f-0+deb12u1 Debian:12.13/oldstable, Debian-Security:12/oldstable-security [all])
Inst base-files [12.4+deb12u12] (12.4+deb12u13 Debian:12.13/oldstable [amd64])
Inst linux-image-6.1.0-28-amd64 (6.1.119-1 Debian-Security:12/oldstable-security [amd64])
Inst linux-image-amd64 [6.1.115-1] (6.1.119-1 Debian-Security:12/oldstable-security [amd64])
Conf libssl3 (3.0.22-1~deb12u2 Debian-Security:12/oldstable-security [amd64])
"""


def test_upgrades_new_packages_and_origins_are_read():
    changes = simulated_changes(SIMULATION)
    assert [entry["name"] for entry in changes["upgrades"]] == ["libssl3", "tzdata", "base-files", "linux-image-amd64"]
    assert changes["upgrades"][0] == {
        "name": "libssl3",
        "installed": "3.0.20-1~deb12u2",
        "candidate": "3.0.22-1~deb12u2",
        "origins": ["Debian-Security:12/oldstable-security"],
        "security": True,
    }
    assert changes["upgrades"][1]["origins"] == ["Debian:12.13/oldstable", "Debian-Security:12/oldstable-security"]
    assert changes["upgrades"][2]["security"] is False
    assert [entry["name"] for entry in changes["installs"]] == ["linux-image-6.1.0-28-amd64"]
    assert changes["installs"][0]["installed"] is None
    assert changes["removals"] == []


@pytest.mark.parametrize(
    ("scope", "names", "chosen"),
    [
        ("all", [], ["libssl3", "tzdata", "base-files", "linux-image-amd64"]),
        ("security", [], ["libssl3", "tzdata", "linux-image-amd64"]),
        ("packages", ["base-files", "nosuch"], ["base-files"]),  # a name with no upgrade is left out
    ],
)
def test_the_scope_chooses_the_upgrades(scope, names, chosen):
    assert chosen_upgrades(simulated_changes(SIMULATION), scope, names) == chosen


def test_a_removal_is_read():
    assert simulated_changes("Remv libfoo1 [1.0-1]\n")["removals"] == [{"name": "libfoo1", "installed": "1.0-1"}]


@pytest.mark.parametrize(
    ("names", "kernel"),
    [
        (["linux-image-amd64"], True),
        (["linux-image-6.1.0-28-amd64"], True),
        (["libssl3", "linux-base"], False),
        ([], False),
    ],
)
def test_a_kernel_is_recognised(names, kernel):
    assert kernel_among(names) is kernel
