# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""linux_capabilities: the effective capabilities a process status says a process holds."""

from __future__ import annotations

DOCUMENTATION = r"""
name: linux_capabilities
short_description: The effective capabilities C(/proc/self/status) says a process holds
version_added: 0.1.0
description:
  - Reads the C(CapEff) line (a hexadecimal bit set) of C(/proc/PID/status) and names its bits. An
    unprivileged container lacks C(CAP_NET_ADMIN), so its firewall is the container host's business.
  - Lines may carry a prefix ending in a colon, as C(grep --with-filename) prints them. Without a C(CapEff)
    line, no capability is held.
options:
  _input:
    description: The status file's lines.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Load the firewall only where the host may
  ansible.builtin.command: nft -f /etc/nftables.conf
  when: "'CAP_NET_ADMIN' in (status.stdout_lines | groundwork.infra.linux_capabilities)"
"""

RETURN = r"""
_value:
  description: The capabilities' names (C(CAP_NET_ADMIN)), by bit number; a bit with no name here as C(CAP_41).
  type: list
  elements: str
"""

import re

# include/uapi/linux/capability.h, bit by bit.
NAMES = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
    "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
    "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
    "CHECKPOINT_RESTORE",
)  # fmt: skip
CAP_EFF = re.compile(r"(?:^|:)CapEff:\s*([0-9a-fA-F]+)\s*$")


def linux_capabilities(lines: list[str]) -> list[str]:
    for line in lines:
        found = CAP_EFF.search(line)
        if found:
            bits = int(found.group(1), 16)
            return [
                f"CAP_{NAMES[bit] if bit < len(NAMES) else bit}" for bit in range(bits.bit_length()) if bits >> bit & 1
            ]
    return []


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"linux_capabilities": linux_capabilities}
