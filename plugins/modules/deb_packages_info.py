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
author: groundwork.infra maintainers
attributes:
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

import glob
import re

from ansible.module_utils.basic import AnsibleModule

PLAIN_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$")
# Compressed or not, per source and architecture: any one means `apt update` has run here.
PACKAGE_LISTS = "/var/lib/apt/lists/*_Packages*"


def statuses(output: str) -> dict[str, str]:
    """Package name to dpkg's status abbreviation ("ii ", "rc ", "un ") from dpkg-query's lines."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        name, _, abbrev = line.partition("\t")
        # A multi-arch package has a line per architecture: installed for one is installed.
        if name and found.get(name, "")[1:2] != "i":
            found[name] = abbrev
    return found


def classify(names: list[str], found: dict[str, str]) -> dict[str, list[str]]:
    installed, missing, not_purged = [], [], []
    for name in names:
        # Status-Abbrev: wanted, state, error flag; state "i" is installed, "n" not installed.
        abbrev = found.get(name.split(":")[0], "") if PLAIN_NAME.match(name) else ""
        state, error = abbrev[1:2], abbrev[2:3].strip()
        (installed if state == "i" and not error else missing).append(name)
        if state not in ("", "n"):
            not_purged.append(name)
    return {"installed": installed, "missing": missing, "not_purged": not_purged}


def main() -> None:
    module = AnsibleModule(
        argument_spec={"names": {"type": "list", "elements": "str", "required": True}},
        supports_check_mode=True,
    )
    names = module.params["names"]
    plain = sorted({name.split(":")[0] for name in names if PLAIN_NAME.match(name)})
    found: dict[str, str] = {}
    if plain:
        # Exit 1 when some name is unknown to dpkg: that is an answer, not a failure.
        rc, out, err = module.run_command(
            ["dpkg-query", "--show", "--showformat=${Package}\t${db:Status-Abbrev}\n", "--", *plain]
        )
        if rc not in (0, 1):
            module.fail_json(msg=f"dpkg-query failed (rc {rc}): {err.strip()}", rc=rc)
        found = statuses(out)
    module.exit_json(changed=False, package_lists=bool(glob.glob(PACKAGE_LISTS)), **classify(names, found))


if __name__ == "__main__":
    main()
