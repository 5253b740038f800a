#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: deb_packages_info
short_description: Which of some Debian packages are installed, from one dpkg-query
version_added: 0.1.0
description:
  - Asks dpkg about the packages named, and nothing else, so that a role calls M(ansible.builtin.apt)
    only when a package is missing or one it removes is still there.
  - M(ansible.builtin.apt) with nothing to do still opens apt's cache and costs about three times a
    plain module run on the host; M(ansible.builtin.package_facts) reads every package of the host.
  - A name apt would read as more than a package (a version C(pkg=1.2), a release C(pkg/bookworm), a
    pattern) is reported missing, so that apt decides.
  - Also says whether apt has package lists at all. Official Debian container images and many cloud
    images ship without them and with a fresh C(/var/lib/apt/lists), which
    O(ansible.builtin.apt#module:cache_valid_time) takes for a recent update; a role then updates them
    whatever the directory's age.
author: groundwork.infra maintainers (@groundwork-infra)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  names:
    description: The packages to ask about.
    type: list
    elements: str
    required: true
    version_added: 0.1.0
"""

EXAMPLES = r"""
- name: Read which base packages are installed
  groundwork.infra.deb_packages_info:
    names: [sudo, chrony]
  register: base_packages

- name: Install base packages
  ansible.builtin.apt:
    name: [sudo, chrony]
  when: base_packages.missing | length > 0
"""

RETURN = r"""
installed:
  description: The names given that are installed and configured.
  returned: always
  type: list
  elements: str
  sample: [sudo]
missing:
  description: The names given that are not installed (or not fully), or that are not plain package names.
  returned: always
  type: list
  elements: str
  sample: [chrony]
not_purged:
  description: The names given of which dpkg still has something, files or configuration (a purge has work).
  returned: always
  type: list
  elements: str
  sample: [sudo]
package_lists:
  description: Whether apt has any package list (a C(*_Packages) file in its lists directory).
  returned: always
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.infra.plugins.module_utils.deb import read_packages


def main() -> None:
    module = AnsibleModule(
        argument_spec={"names": {"type": "list", "elements": "str", "required": True}},
        supports_check_mode=True,
    )
    module.exit_json(changed=False, **read_packages(module, module.params["names"]))


if __name__ == "__main__":
    main()
