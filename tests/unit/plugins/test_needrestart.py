"""groundwork.infra.needrestart as a table: needrestart's batch lines in, what to restart out."""

import pytest
from ansible_collections.groundwork.infra.plugins.filter.needrestart import needrestart

# As needrestart 3.6 (Debian 12) prints them on a VM after a kernel and an OpenSSL update.
ON_A_VM = """NEEDRESTART-VER: 3.6
NEEDRESTART-KCUR: 6.1.0-25-amd64
NEEDRESTART-KEXP: 6.1.0-28-amd64
NEEDRESTART-KSTA: 3
NEEDRESTART-SVC: ssh.service
NEEDRESTART-SVC: postgresql@15-main.service
NEEDRESTART-SVC: systemd-manager
NEEDRESTART-SVC: ssh.service
"""
# In a container: no kernel lines at all.
IN_A_CONTAINER = "NEEDRESTART-VER: 3.6\nNEEDRESTART-SVC: systemd-logind.service\n"


@pytest.mark.parametrize(
    ("output", "services", "manager", "kernel"),
    [
        (ON_A_VM, ["postgresql@15-main.service", "ssh.service"], True, "pending"),
        (IN_A_CONTAINER, ["systemd-logind.service"], False, "unknown"),
        ("NEEDRESTART-VER: 3.6\nNEEDRESTART-KSTA: 1\n", [], False, "current"),
        ("NEEDRESTART-KSTA: 2\n", [], False, "pending"),  # an ABI-compatible upgrade: a reboot too
        ("NEEDRESTART-KSTA: 0\n", [], False, "unknown"),
        ("", [], False, "unknown"),
    ],
)
def test_stale_services_and_kernel(output, services, manager, kernel):
    report = needrestart(output)
    assert (report["services"], report["manager"], report["kernel"]) == (services, manager, kernel)


def test_the_kernels_are_named():
    report = needrestart(ON_A_VM)
    assert (report["running_kernel"], report["expected_kernel"]) == ("6.1.0-25-amd64", "6.1.0-28-amd64")
