# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_live_data_dirs: which of the PG_VERSION files found on a host mark a live data directory."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pg_live_data_dirs
short_description: Which of the PG_VERSION files found on a host mark a version's live data directory
version_added: 0.1.0
description:
  - A restore must not replace live data without being told to. A directory holding a C(PG_VERSION) file is a
    live data directory when it is where Debian's layout (C(pg_layout)) puts its version's cluster; one kept
    aside (C(main.rebuild-*), C(main.restore-*)) is not.
options:
  _input:
    description: What C(ansible.builtin.find) found for C(PG_VERSION) (its C(files)), or their paths.
    type: list
    elements: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse to restore over live data
  ansible.builtin.assert:
    that: found.files | groundwork.infra.pg_live_data_dirs | length == 0
"""

RETURN = r"""
_value:
  description: The live data directories, in the order found.
  type: list
  elements: str
"""

import posixpath
import re

from ansible_collections.groundwork.infra.plugins.filter.pg_layout import pg_layout


def pg_live_data_dirs(found: list) -> list[str]:
    live = []
    for file in found:
        directory = posixpath.dirname(file["path"] if isinstance(file, dict) else file)
        version = posixpath.basename(posixpath.dirname(directory))
        if re.fullmatch(r"[0-9]+", version) and directory == pg_layout(version)["data_dir"]:
            live.append(directory)
    return live


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"pg_live_data_dirs": pg_live_data_dirs}
