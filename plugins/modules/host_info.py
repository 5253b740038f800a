#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_info
short_description: What a role decides from, in one module run - packages, units, locales and accounts
version_added: 0.1.0
description:
  - Reads, in one call, whether some Debian packages are installed (as M(groundwork.infra.deb_packages_info)),
    what M(groundwork.infra.systemd_units) would have to do to bring some units to the state wanted,
    which locales are not generated yet, and which login accounts and authorized keys differ from
    those wanted.
  - A role then runs M(ansible.builtin.apt), M(groundwork.infra.systemd_units),
    M(community.general.locale_gen), M(ansible.builtin.group), M(ansible.builtin.user) and
    M(ansible.posix.authorized_key) only when there is something for them to do; each costs a module
    run on the host even when it changes nothing.
  - Reads only; changes nothing, in check mode or not.
author: groundwork.infra maintainers (@groundwork-infra)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  packages:
    description: Debian packages to ask dpkg about.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  units:
    description: systemd units with the state wanted, as M(groundwork.infra.systemd_units) takes them.
    type: list
    elements: dict
    default: []
    version_added: 0.1.0
    suboptions:
      name:
        description: The unit; C(.service) is added to a name without a type.
        type: str
        required: true
        version_added: 0.1.0
      state:
        description: Running (V(started)) or not (V(stopped)); left as it is when unset.
        type: str
        choices: [started, stopped]
        version_added: 0.1.0
      enabled:
        description: Started at boot or not; left as it is when unset.
        type: bool
        version_added: 0.1.0
      masked:
        description: Masked or not; left as it is when unset.
        type: bool
        version_added: 0.1.0
  locales:
    description: Locale names (V(en_US.UTF-8)); compared with C(locale -a) the way glibc names them (V(en_US.utf8)).
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  accounts:
    description:
      - Login accounts as they are wanted. Each has C(name) and may have C(comment) (compared when not
        empty), C(shell) (default V(/bin/bash)) and C(ssh_keys) (the only keys of its
        C(~/.ssh/authorized_keys), one line each); other keys are ignored, so that a role's list of
        users can be given as it is.
    type: list
    elements: dict
    default: []
    version_added: 0.1.0
  accounts_group:
    description: A group that must exist and that every account of O(accounts) must be a member of.
    type: str
    version_added: 0.1.0
  gone_accounts:
    description: Login names that are not to exist.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
"""

EXAMPLES = r"""
- name: Read the packages, services and locales this host has
  groundwork.infra.host_info:
    packages: [chrony, sudo]
    units:
      - {name: chrony, state: started, enabled: true}
    locales: [en_US.UTF-8]
  register: host

- name: Generate locales
  community.general.locale_gen:
    name: [en_US.UTF-8]
  when: host.locales_missing | length > 0
"""

RETURN = r"""
packages:
  description: As M(groundwork.infra.deb_packages_info) returns them, for the packages asked about.
  returned: always
  type: dict
  contains:
    installed:
      description: The names given that are installed and configured.
      type: list
      elements: str
    missing:
      description: The names given that are not installed (or not fully), or that are not plain package names.
      type: list
      elements: str
    not_purged:
      description: The names given of which dpkg still has something.
      type: list
      elements: str
    package_lists:
      description: Whether apt has any package list.
      type: bool
units_commands:
  description:
    - The C(systemctl) commands M(groundwork.infra.systemd_units) would run for the units asked about.
    - Empty when they are as wanted.
  returned: always
  type: list
  elements: list
  sample: [["systemctl", "start", "chrony.service"]]
units_unknown:
  description: Units asked to run or start at boot that systemd does not know.
  returned: always
  type: list
  elements: str
locales_missing:
  description: The locales given that C(locale -a) does not list.
  returned: always
  type: list
  elements: str
  sample: [de_DE.UTF-8]
accounts_group_missing:
  description: Whether O(accounts_group) is given and the group database lacks it.
  returned: always
  type: bool
accounts_differing:
  description:
    - The names of O(accounts) whose account is missing or has another shell or comment, or is not a
      member of O(accounts_group).
  returned: always
  type: list
  elements: str
keys_differing:
  description:
    - The names of O(accounts) whose C(~/.ssh/authorized_keys) is missing, holds other lines than the
      keys wanted, or is not the user's with mode 0600 in a directory of the user's with mode 0700.
  returned: always
  type: list
  elements: str
gone_accounts_existing:
  description: The names of O(gone_accounts) that exist.
  returned: always
  type: list
  elements: str
"""

import contextlib
import grp
import os
import pwd
import re
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.infra.plugins.module_utils.deb import read_packages
from ansible_collections.groundwork.infra.plugins.module_utils.systemd import missing_units, plan, read_units


def locale_key(name: str) -> str:
    """A locale name as `locale -a` lists it: the codeset lower case, without punctuation (UTF-8 -> utf8)."""
    language, dot, rest = name.partition(".")
    codeset, at, modifier = rest.partition("@")
    return language + (dot + re.sub(r"[^a-z0-9]", "", codeset.lower()) if dot else "") + at + modifier


def missing_locales(wanted: list[str], listed: str) -> list[str]:
    present = {locale_key(line.strip()) for line in listed.splitlines() if line.strip()}
    return [name for name in wanted if locale_key(name) not in present]


def account_differs(wanted: dict, entry: pwd.struct_passwd | None, groups: set[str], group: str | None) -> bool:
    """Whether ansible.builtin.user would change the account (comment only when one is given)."""
    if entry is None:
        return True
    if (wanted.get("shell") or "/bin/bash") != entry.pw_shell:
        return True
    if wanted.get("comment") and wanted["comment"] != entry.pw_gecos:
        return True
    return bool(group) and group not in groups


def keys_differ(
    keys: list[str], text: str | None, owner: int, file_stat: os.stat_result | None, dir_stat: os.stat_result | None
) -> bool:
    """Whether ansible.posix.authorized_key (exclusive) would rewrite the file or fix its modes."""
    if text is None or file_stat is None or dir_stat is None:
        return True
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if lines != [key.strip() for key in keys if key.strip()]:
        return True
    modes = (stat.S_IMODE(file_stat.st_mode), stat.S_IMODE(dir_stat.st_mode))
    return modes != (0o600, 0o700) or (file_stat.st_uid, dir_stat.st_uid) != (owner, owner)


def _account(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _member_of(entry: pwd.struct_passwd) -> set[str]:
    """The groups an account is in: its primary group and those that list it."""
    names = {group.gr_name for group in grp.getgrall() if entry.pw_name in group.gr_mem}
    with contextlib.suppress(KeyError):  # a primary group the group database lacks
        names.add(grp.getgrgid(entry.pw_gid).gr_name)
    return names


def _read(path: str) -> tuple[str | None, os.stat_result | None]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(), os.stat(path)
    except OSError:
        return None, None


def read_accounts(accounts: list[dict], group: str | None, gone: list[str]) -> dict:
    result = {"accounts_group_missing": False, "accounts_differing": [], "keys_differing": []}
    if group:
        try:
            grp.getgrnam(group)
        except KeyError:
            result["accounts_group_missing"] = True
    for wanted in accounts:
        entry = _account(wanted["name"])
        if account_differs(wanted, entry, _member_of(entry) if entry else set(), group):
            result["accounts_differing"].append(wanted["name"])
        if entry is None:
            result["keys_differing"].append(wanted["name"])
            continue
        ssh_dir = os.path.join(entry.pw_dir, ".ssh")
        text, file_stat = _read(os.path.join(ssh_dir, "authorized_keys"))
        dir_stat = os.stat(ssh_dir) if os.path.isdir(ssh_dir) else None
        if keys_differ(wanted.get("ssh_keys") or [], text, entry.pw_uid, file_stat, dir_stat):
            result["keys_differing"].append(wanted["name"])
    result["gone_accounts_existing"] = [name for name in gone if _account(name) is not None]
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "packages": {"type": "list", "elements": "str", "default": []},
            "units": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "name": {"type": "str", "required": True},
                    "state": {"type": "str", "choices": ["started", "stopped"]},
                    "enabled": {"type": "bool"},
                    "masked": {"type": "bool"},
                },
            },
            "locales": {"type": "list", "elements": "str", "default": []},
            "accounts": {"type": "list", "elements": "dict", "default": []},
            "accounts_group": {"type": "str"},
            "gone_accounts": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    units, locales = module.params["units"], module.params["locales"]
    result = {"packages": read_packages(module, module.params["packages"]), "units_commands": [], "units_unknown": []}

    if units:
        _names, current = read_units(module, module.get_bin_path("systemctl", required=True), units)
        result.update(units_commands=plan(units, current), units_unknown=missing_units(units, current))

    result["locales_missing"] = []
    if locales:
        rc, out, err = module.run_command(["locale", "-a"])
        if rc != 0:
            module.fail_json(msg=f"locale -a failed: {err.strip()}", rc=rc)
        result["locales_missing"] = missing_locales(locales, out)

    for wanted in module.params["accounts"]:
        if not isinstance(wanted.get("name"), str) or not wanted["name"]:
            module.fail_json(msg=f"every entry of accounts needs a name; got {sorted(wanted)}")
    result.update(
        read_accounts(module.params["accounts"], module.params["accounts_group"], module.params["gone_accounts"])
    )

    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
