"""groundwork.infra.container as a table: virtualization facts in, whether the host is a container out."""

import pytest
from ansible_collections.groundwork.infra.plugins.test.container import container


@pytest.mark.parametrize(
    ("facts", "is_container"),
    [
        ({"virtualization_role": "guest", "virtualization_type": "podman"}, True),
        ({"virtualization_role": "guest", "virtualization_type": "container"}, True),
        ({"virtualization_role": "guest", "virtualization_type": "lxc"}, True),
        ({"virtualization_role": "guest", "virtualization_type": "systemd-nspawn"}, True),
        # A virtual machine has a kernel of its own.
        ({"virtualization_role": "guest", "virtualization_type": "kvm"}, False),
        ({"virtualization_role": "guest", "virtualization_type": "xen"}, False),
        # A machine that runs containers is their host, not one of them.
        ({"virtualization_role": "host", "virtualization_type": "podman"}, False),
        # Facts gathered without the virtual subset.
        ({}, False),
    ],
)
def test_container(facts, is_container):
    assert container(facts) is is_container
