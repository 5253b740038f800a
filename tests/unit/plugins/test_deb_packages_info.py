"""groundwork.infra.deb_packages_info as a table: dpkg-query's lines in, what apt has to do out."""

import pytest
from ansible_collections.groundwork.infra.plugins.module_utils.deb import classify, statuses

DPKG = "sudo\tii \nchrony\trc \ntelnet\tun \nbroken\tiU \nlibc6\tii \nlibc6\tun \nheld\thi \nhalf\tiHR\n"


@pytest.mark.parametrize(
    ("name", "installed", "not_purged"),
    [
        ("sudo", True, True),  # installed
        ("chrony", False, True),  # removed, configuration left: a purge has work
        ("telnet", False, False),  # known to dpkg, never installed
        ("nosuch", False, False),  # unknown to dpkg (dpkg-query exits 1 for it)
        ("broken", False, True),  # unpacked, not configured: apt must finish it
        ("libc6", True, True),  # installed for one architecture of two
        ("libc6:amd64", True, True),
        ("held", True, True),  # on hold, installed
        ("half", False, True),  # error flag set: reinstall required
        ("sudo=1.9.13p3-1", False, False),  # a version: apt decides
        ("sudo/bookworm", False, False),  # a release: apt decides
        ("postgresql-*", False, False),  # a pattern: apt decides
    ],
)
def test_each_name_is_installed_or_left_to_apt(name, installed, not_purged):
    result = classify([name], statuses(DPKG))
    assert (name in result["installed"], name in result["missing"]) == (installed, not installed)
    assert (name in result["not_purged"]) == not_purged


def test_names_keep_their_order_and_spelling():
    assert classify(["telnet", "sudo"], statuses(DPKG)) == {
        "installed": ["sudo"],
        "missing": ["telnet"],
        "not_purged": ["sudo"],
    }
