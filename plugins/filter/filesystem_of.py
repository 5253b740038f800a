# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""filesystem_of: the mounted filesystem a path lives on, from the host's mount facts."""

from __future__ import annotations

DOCUMENTATION = r"""
name: filesystem_of
short_description: The mounted filesystem a path lives on
version_added: 0.1.0
description:
  - Picks, from C(ansible_facts['mounts']), the mount with the longest mount point that contains
    the path (the path need not exist yet). Returns an empty dict when no mount contains it, for
    example when facts were gathered without the hardware subset.
options:
  _input:
    description: The host's mounts, as C(ansible_facts['mounts']) has them.
    type: list
    elements: dict
    required: true
  path:
    description: An absolute path.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Size of the disk under the data directory
  ansible.builtin.debug:
    msg: "{{ (ansible_facts['mounts'] | groundwork.infra.filesystem_of('/var/lib/postgresql')).size_total }}"
"""

RETURN = r"""
_value:
  description: The mount (keys as in the facts - C(mount), C(device), C(fstype), C(size_total), ...), or an empty dict.
  type: dict
"""

import posixpath

from ansible.errors import AnsibleFilterError


def filesystem_of(mounts: list[dict], path: str) -> dict:
    if not isinstance(path, str) or not path.startswith("/"):
        raise AnsibleFilterError(f"filesystem_of: path must be absolute, got {path!r}")
    path = posixpath.normpath(path)
    best: dict = {}
    for mount in mounts or []:
        point = posixpath.normpath(str(mount.get("mount", "")))
        contains = point == "/" or path == point or path.startswith(point + "/")
        if point.startswith("/") and contains and len(point) > len(best.get("mount", "")):
            best = mount
    return best


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"filesystem_of": filesystem_of}
