# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""config_keywords_changes: which keywords M(groundwork.infra.config_keywords) would change in a text."""

from __future__ import annotations

DOCUMENTATION = r"""
name: config_keywords_changes
short_description: Which KEYWORD-value settings a file's text lacks
version_added: 0.1.0
description:
  - The keywords M(groundwork.infra.config_keywords) would change in this text, by the same rules, so
    that a role which read the file along with other things in one command runs the module only
    when there is something to change.
options:
  _input:
    description: The file's text as the host has it.
    type: str
    required: true
  settings:
    description: Keywords and their values.
    type: dict
    required: true
  separator:
    description: What goes between a keyword and its value.
    type: str
    default: "\t"
"""

EXAMPLES = r"""
- name: Set login.defs
  groundwork.infra.config_keywords:
    path: /etc/login.defs
    settings: "{{ login_defs }}"
  when: login_defs_text | groundwork.infra.config_keywords_changes(login_defs) | length > 0
"""

RETURN = r"""
_value:
  description: The keywords that would change or be added, in the order given.
  type: list
  elements: str
"""

from ansible_collections.groundwork.infra.plugins.module_utils.keywords import with_settings


def config_keywords_changes(text: str, settings: dict, separator: str = "\t") -> list[str]:
    return with_settings(text, {str(k): str(v) for k, v in settings.items()}, separator)[1]


class FilterModule:
    def filters(self) -> dict:
        return {"config_keywords_changes": config_keywords_changes}
