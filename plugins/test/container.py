# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""container: whether a host's facts say it is a container (the one place the roles decide it)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: container
short_description: Whether a host's facts say it is a container
version_added: 0.1.0
description:
  - True when Ansible's virtualization facts name the host a guest of a container runtime (podman, docker,
    containerd, LXC, systemd-nspawn). A container shares its kernel with the host, so the roles leave kernel
    parameters, the hostname and the firewall's kernel side to whoever runs the container, and say so.
  - A virtual machine (kvm, xen, VMware ...) is a guest too, but with a kernel of its own, so not a container.
options:
  _input:
    description: The host's C(ansible_facts) (the C(virtual) subset is enough).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Load kernel parameters only where the host has a kernel of its own
  ansible.posix.sysctl:
    name: kernel.kptr_restrict
    value: "2"
  when: ansible_facts is not groundwork.infra.container
"""

RETURN = r"""
_value:
  description: Whether the host is a container.
  type: bool
"""

from collections.abc import Mapping

CONTAINER_TYPES = frozenset(("podman", "container", "docker", "containerd", "lxc", "systemd-nspawn"))


def container(facts: Mapping) -> bool:
    return facts.get("virtualization_role") == "guest" and facts.get("virtualization_type") in CONTAINER_TYPES


class TestModule:
    def tests(self) -> dict[str, object]:
        return {"container": container}
