# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""supported_platform: whether a host's facts name a release the collection supports (the one place it is said)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: supported_platform
short_description: Whether a host runs a release the collection supports
version_added: 0.1.0
description:
  - Debian 12 (bookworm) and Debian 13 (trixie), the releases every role is tested on. Each role's preflight
    refuses any other host before it changes anything.
options:
  _input:
    description: The host's C(ansible_facts) (C(distribution) and C(distribution_major_version)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the platform is supported
  ansible.builtin.assert:
    that: ansible_facts is groundwork.infra.supported_platform
"""

RETURN = r"""
_value:
  description: Whether the release is supported.
  type: bool
"""

from collections.abc import Mapping

SUPPORTED = {"Debian": ("12", "13")}


def supported_platform(facts: Mapping) -> bool:
    return str(facts.get("distribution_major_version")) in SUPPORTED.get(facts.get("distribution"), ())


class TestModule:
    def tests(self) -> dict[str, object]:
        return {"supported_platform": supported_platform}
