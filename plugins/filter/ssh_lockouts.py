# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ssh_lockouts: how a new firewall or sshd_config would shut this very run's login out."""

from __future__ import annotations

DOCUMENTATION = r"""
name: ssh_lockouts
short_description: How a new firewall or sshd_config would shut the current SSH login out, in words
version_added: 0.1.0
description:
  - Takes what the host saw of the login (three lines - C($SSH_CONNECTION), the user, the user's groups)
    and the rules about to be installed, and returns one sentence per way the login would be refused
    once they are. The hardening role fails on them before any change.
  - A login that is not an SSH session (no C($SSH_CONNECTION), such as a container's own connection)
    cannot be shut out by either, and the result is empty.
options:
  _input:
    description:
      - The three lines, as C(printf '%s\n' "$SSH_CONNECTION" "$(id -un)" "$(id -Gn "$(id -un)")") prints them.
      - The groups are the group database's, which sshd reads at a login, not the current session's.
    type: str
    required: true
  ssh_sources:
    description: Addresses and networks the firewall will let SSH in from; V(null) when no firewall is written.
    type: list
    elements: str
  allow_groups:
    description: sshd_config's C(AllowGroups); V(null) when no sshd_config is written.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Refuse what would shut this run out
  ansible.builtin.assert:
    that: login.stdout | groundwork.infra.ssh_lockouts(['192.0.2.0/24'], ['admins']) | length == 0
"""

RETURN = r"""
_value:
  description: One sentence per way the login would be refused; empty when none.
  type: list
  elements: str
"""

import ipaddress


def _admitted(client: str, sources: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    for source in sources:
        try:
            if address in ipaddress.ip_network(source, strict=False):
                return True
        except ValueError:
            continue
    return False


def ssh_lockouts(login: str, ssh_sources: list[str] | None, allow_groups: list[str] | None) -> list[str]:
    connection, user, groups = ([*str(login).splitlines(), "", "", ""])[:3]
    if not connection.strip():
        return []
    client = connection.split()[0]
    lockouts = []
    if ssh_sources is not None and not _admitted(client, ssh_sources):
        lockouts.append(
            f"this run connects from {client}, which the new firewall would not let SSH in from "
            f"({', '.join(ssh_sources) or 'nowhere'}): add it to hardening_firewall_admin_networks"
        )
    if allow_groups is not None:
        if user == "root":
            lockouts.append(
                "this run logs in as root, which the new sshd_config refuses (PermitRootLogin no): "
                "log in as an administrator and become root with sudo"
            )
        elif not set(groups.split()) & set(allow_groups):
            lockouts.append(
                f"this run logs in as {user} (groups: {groups or 'none'}), whom the new sshd_config refuses "
                f"(AllowGroups {' '.join(allow_groups)}): add one of the user's groups to hardening_ssh_allow_groups"
            )
    return lockouts


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"ssh_lockouts": ssh_lockouts}
