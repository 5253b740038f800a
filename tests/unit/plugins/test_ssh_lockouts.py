"""groundwork.infra.ssh_lockouts as a table: the login as the host saw it and the new rules in, lockouts out."""

import pytest
from ansible_collections.groundwork.infra.plugins.filter.ssh_lockouts import ssh_lockouts

ADMIN = "10.89.0.1 53120 10.89.0.12 22\nlabadmin\nlabadmin admins"


@pytest.mark.parametrize(
    ("login", "sources", "groups", "lockout"),
    [
        (ADMIN, ["10.89.0.1/32"], ["admins"], None),
        (ADMIN, ["10.89.0.0/16", "192.0.2.0/24"], ["admins", "postgres"], None),
        (ADMIN, ["192.0.2.0/24"], ["admins"], "this run connects from 10.89.0.1, which the new firewall would not"),
        (ADMIN, [], ["admins"], "(nowhere)"),
        (ADMIN, ["10.89.0.1/32"], ["wheel"], "this run logs in as labadmin (groups: labadmin admins), whom"),
        ("10.89.0.1 1 10.89.0.12 22\nroot\nroot", ["10.89.0.1/32"], ["admins"], "logs in as root"),
        (ADMIN, None, None, None),
        ("\nroot\nroot", ["192.0.2.0/24"], ["wheel"], None),
        ("fe80::1 1 fe80::2 22\nlabadmin\nadmins", ["fe80::/64"], ["admins"], None),
    ],
    ids=["admitted", "several", "outside", "no-sources", "not-in-allowgroups", "root", "nothing-written",
         "not-ssh", "ipv6"],
)  # fmt: skip
def test_each_lockout_is_named(login, sources, groups, lockout):
    found = ssh_lockouts(login, sources, groups)
    if lockout is None:
        assert found == []
    else:
        assert any(lockout in sentence for sentence in found), found
