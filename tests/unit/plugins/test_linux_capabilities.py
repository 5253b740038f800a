"""groundwork.infra.linux_capabilities as a table: /proc/self/status lines in, capability names out."""

import pytest
from ansible_collections.groundwork.infra.plugins.filter.linux_capabilities import linux_capabilities

# podman's default set for a root container (no CAP_NET_ADMIN), and the lab's, which adds it.
PODMAN_DEFAULT = "00000000800405fb"
PODMAN_NET_ADMIN = "00000000800415fb"


@pytest.mark.parametrize(
    ("lines", "held", "absent"),
    [
        # As the hardening role's probe prints it (grep --with-filename).
        ([f"/proc/self/status:CapEff:\t{PODMAN_DEFAULT}"], {"CAP_CHOWN", "CAP_SETUID", "CAP_SYS_CHROOT"},
         {"CAP_NET_ADMIN", "CAP_SYS_ADMIN"}),
        ([f"/proc/self/status:CapEff:\t{PODMAN_NET_ADMIN}"], {"CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE"},
         {"CAP_SYS_ADMIN"}),
        # A full root set on a machine (41 bits), read as the file itself.
        (["Name:\tcat", "CapPrm:\t000001ffffffffff", "CapEff:\t000001ffffffffff"],
         {"CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE"}, set()),
        # Only another line mentions CapEff's value; no CapEff line at all: nothing is held.
        (["/proc/self/status:CapBnd:\t000001ffffffffff", "/sys/module/apparmor/parameters/enabled:Y"], set(),
         {"CAP_NET_ADMIN"}),
        (["CapEff:\t0000000000000000"], set(), {"CAP_CHOWN"}),
    ],
)  # fmt: skip
def test_held(lines, held, absent):
    names = linux_capabilities(lines)
    assert held <= set(names)
    assert not absent & set(names)
    assert len(names) == len(set(names))


def test_a_bit_the_table_does_not_name_is_given_by_number():
    assert linux_capabilities(["CapEff:\t0000060000001000"]) == ["CAP_NET_ADMIN", "CAP_41", "CAP_42"]
