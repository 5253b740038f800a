#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: config_keywords
short_description: Set several C(KEYWORD value) lines of a configuration file in one call
version_added: 0.1.0
description:
  - For files of one setting per line, a keyword then its value (C(/etc/login.defs) and the like),
    that belong to a package rather than to us, so are edited rather than templated.
  - The last line that sets a keyword or comments it out (C(#KEYWORD ...)) is replaced, as
    M(ansible.builtin.lineinfile) with O(ansible.builtin.lineinfile#module:regexp) set to C(^#?\s*KEYWORD\s) does
    (C(^#?\s*KEYWORD\s*=) with O(separator==)); a keyword with no such line is added at the end. The rest
    of the file is kept as it is.
  - P(groundwork.infra.config_keywords_changes#filter) tells from the file's text, read with other
    things in one command, whether this module has anything to do.
  - One call for every setting, where M(ansible.builtin.lineinfile) in a loop costs a module run per
    setting and host.
  - In check mode nothing is written; the result says what would change.
author: groundwork.infra maintainers (@groundwork-infra)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  path:
    description: The file. It must exist.
    type: path
    required: true
    version_added: 0.1.0
  settings:
    description: Keywords and their values.
    type: dict
    required: true
    version_added: 0.1.0
  separator:
    description: What goes between a keyword and its value in the lines written (V(=) for shell-style files).
    type: str
    default: "\t"
    version_added: 0.1.0
"""

EXAMPLES = r"""
- name: Password ageing and the login umask
  groundwork.infra.config_keywords:
    path: /etc/login.defs
    settings:
      PASS_MAX_DAYS: 365
      UMASK: "027"
"""

RETURN = r"""
changed_keywords:
  description: The keywords whose line was changed or added (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [PASS_MAX_DAYS, UMASK]
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.infra.plugins.module_utils.keywords import with_settings


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "settings": {"type": "dict", "required": True},
            "separator": {"type": "str", "default": "\t"},
        },
        supports_check_mode=True,
    )
    path = module.params["path"]
    if not os.path.isfile(path):
        module.fail_json(msg=f"{path} does not exist: this module edits a file, it does not create one")
    with open(path, encoding="utf-8") as stream:
        before = stream.read()
    settings = {str(key): str(value) for key, value in module.params["settings"].items()}
    after, changed = with_settings(before, settings, module.params["separator"])
    if changed and not module.check_mode:
        handle, staged = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".groundwork-")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(after)
        module.atomic_move(staged, path)
    module.exit_json(
        changed=bool(changed), changed_keywords=changed, diff={"before": before, "after": after, "before_header": path}
    )


if __name__ == "__main__":
    main()
