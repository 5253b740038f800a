#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: file_modes
short_description: Set the owner, group and mode of many paths in one call, creating directories and links asked for
version_added: 0.1.0
description:
  - Gives each listed path that exists the owner, group and mode asked for; a path the host does
    not have is left alone (not created), unless its entry has O(paths[].state=directory) or
    O(paths[].state=link).
  - One call for the whole list. M(ansible.builtin.file) in a loop costs a module run per path and
    host, and needs a M(ansible.builtin.stat) loop first to skip the paths a host does not have.
  - A path may be a shell-style pattern (C(/home/*/)), expanded on the host; a pattern ending in
    C(/) matches directories only. Symbolic links are followed, as M(ansible.builtin.file) does.
  - In check mode nothing is changed; the result lists what would change.
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
  paths:
    description: The paths, each with what it should have. An entry's unset owner, group or mode is left as it is.
    type: list
    elements: dict
    required: true
    version_added: 0.1.0
    suboptions:
      path:
        description: A path, or a pattern of paths.
        type: str
        required: true
        version_added: 0.1.0
      owner:
        description: User name of the owner.
        type: str
        version_added: 0.1.0
      group:
        description: Group name.
        type: str
        version_added: 0.1.0
      mode:
        description: Permissions as an octal string (V("0640")).
        type: str
        version_added: 0.1.0
      state:
        description:
          - V(existing) sets what the path has if the host has it.
          - V(directory) creates the directory first if it is missing (its missing parents too, as
            C(mkdir -p) does), so that a role's drop-in directories cost one call together. Not for patterns.
          - V(link) makes the path a symbolic link to O(paths[].src), replacing a file or another link there
            atomically (never a directory); refused, with nothing changed, when O(paths[].src) does not
            exist. Owner, group and mode do not apply.
        type: str
        choices: [existing, directory, link]
        default: existing
        version_added: 0.1.0
      src:
        description: What a V(link) points at. Required with O(paths[].state=link).
        type: str
        version_added: 0.1.0
"""

EXAMPLES = r"""
- name: Tighten sensitive files and keep home directories private
  groundwork.infra.file_modes:
    paths:
      - {path: /etc/shadow, owner: root, group: shadow, mode: "0640"}
      - {path: /etc/cron.d, owner: root, group: root, mode: "0700"}
      - {path: /home/*/, mode: "0750"}

- name: Create the drop-in directories the role writes into
  groundwork.infra.file_modes:
    paths:
      - {path: /etc/security/pwquality.conf.d, state: directory, owner: root, group: root, mode: "0755"}
      - {path: /etc/systemd/coredump.conf.d, state: directory, owner: root, group: root, mode: "0755"}
      - {path: /etc/localtime, state: link, src: /usr/share/zoneinfo/Europe/Berlin}
"""

RETURN = r"""
changes:
  description: What was changed (or, in check mode, would be), one entry per path.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The path.
      type: str
    before:
      description:
        - Owner, group and mode it had (empty for a directory created).
        - For a link, its C(target) (empty when a plain file was there; the entry is empty when nothing was).
      type: dict
    after:
      description: Owner, group and mode it has now; for a link, its C(target).
      type: dict
  sample:
    - path: /etc/crontab
      before: {owner: root, group: root, mode: "0644"}
      after: {owner: root, group: root, mode: "0600"}
"""

import glob
import grp
import os
import pwd
import stat
from collections.abc import Callable

from ansible.module_utils.basic import AnsibleModule


def ownership(entry: dict, module: AnsibleModule) -> tuple[int, int, int]:
    """The uid, gid and mode an entry asks for; -1 where it asks for nothing."""
    try:
        uid = pwd.getpwnam(entry["owner"]).pw_uid if entry["owner"] else -1
        gid = grp.getgrnam(entry["group"]).gr_gid if entry["group"] else -1
    except KeyError as exc:
        module.fail_json(msg=f"{entry['path']}: no such user or group on this host: {exc.args[0]}")
    try:
        mode = int(entry["mode"], 8) if entry["mode"] else -1
    except ValueError:
        module.fail_json(msg=f"{entry['path']}: mode {entry['mode']!r} is not an octal number")
    return uid, gid, mode


def matches(pattern: str) -> list[str]:
    if not glob.has_magic(pattern):
        return [pattern] if os.path.exists(pattern) else []
    return sorted(path.rstrip("/") or "/" for path in glob.glob(pattern))


def described(st: os.stat_result) -> dict[str, str]:
    def name(lookup: Callable[[int], tuple], ident: int) -> str:
        try:
            return lookup(ident)[0]
        except KeyError:
            return str(ident)

    return {
        "owner": name(pwd.getpwuid, st.st_uid),
        "group": name(grp.getgrgid, st.st_gid),
        "mode": f"{stat.S_IMODE(st.st_mode):04o}",
    }


def refuse_bad_links(entries: list[dict], module: AnsibleModule) -> None:
    """Before anything changes: every link has a target that exists and replaces no directory."""
    for entry in entries:
        if not entry["src"]:
            module.fail_json(msg=f"{entry['path']}: state=link needs src")
        if not os.path.exists(entry["src"]):
            module.fail_json(msg=f"{entry['path']}: {entry['src']} does not exist, so no link to it was made")
        if os.path.isdir(entry["path"]) and not os.path.islink(entry["path"]):
            module.fail_json(msg=f"{entry['path']} is a directory; it is not replaced by a link")


def linked(path: str, src: str, check_mode: bool) -> dict | None:
    """Make path a link to src (a new link renamed over it, so that it never goes missing); None if it is one."""
    target = os.readlink(path) if os.path.islink(path) else ""
    if target == src:
        return None
    existed = os.path.lexists(path)
    if not check_mode:
        staged = f"{path}.{os.getpid()}.link"
        os.symlink(src, staged)
        os.replace(staged, path)
    # A plain file there had no target: its "before" says so with an empty one.
    return {"path": path, "before": {"target": target} if existed else {}, "after": {"target": src}}


def diff_line(path: str, state: dict[str, str]) -> str:
    if "target" in state:
        return f"{path} -> {state['target']}\n"
    return f"{path} {state['owner']}:{state['group']} {state['mode']}\n"


def created_directory(entry: dict, uid: int, gid: int, mode: int, module: AnsibleModule) -> dict:
    """Create a missing directory (unless in check mode) with what its entry asks for."""
    path = entry["path"]
    if not module.check_mode:
        os.makedirs(path)
        os.chown(path, uid, gid)
        if mode != -1:
            os.chmod(path, mode)
    after = (
        described(os.stat(path))
        if not module.check_mode
        else {"owner": entry["owner"] or "", "group": entry["group"] or "", "mode": entry["mode"] or ""}
    )
    return {"path": path, "before": {}, "after": after}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "paths": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "path": {"type": "str", "required": True},
                    "owner": {"type": "str"},
                    "group": {"type": "str"},
                    "mode": {"type": "str"},
                    "state": {"type": "str", "choices": ["existing", "directory", "link"], "default": "existing"},
                    "src": {"type": "str"},
                },
            }
        },
        supports_check_mode=True,
    )
    changes = []
    refuse_bad_links([entry for entry in module.params["paths"] if entry["state"] == "link"], module)
    for entry in module.params["paths"]:
        if entry["state"] == "link":
            change = linked(entry["path"], entry["src"], module.check_mode)
            changes.extend([change] if change else [])
            continue
        uid, gid, mode = ownership(entry, module)
        if entry["state"] == "directory":
            if glob.has_magic(entry["path"]):
                module.fail_json(msg=f"{entry['path']}: state=directory takes a path, not a pattern")
            if not os.path.exists(entry["path"]):
                changes.append(created_directory(entry, uid, gid, mode, module))
                continue
            if not os.path.isdir(entry["path"]):
                module.fail_json(msg=f"{entry['path']} exists and is not a directory")
        for path in matches(entry["path"]):
            st = os.stat(path)
            # -1 asks for nothing, as os.chown reads it.
            wrong_owner = uid not in (-1, st.st_uid) or gid not in (-1, st.st_gid)
            wrong_mode = mode not in (-1, stat.S_IMODE(st.st_mode))
            if not (wrong_owner or wrong_mode):
                continue
            before = described(st)
            if not module.check_mode:
                if wrong_owner:
                    os.chown(path, uid, gid)
                if wrong_mode:
                    os.chmod(path, mode)
            after = {
                "owner": entry["owner"] or before["owner"],
                "group": entry["group"] or before["group"],
                "mode": f"{mode:04o}" if mode != -1 else before["mode"],
            }
            changes.append({"path": path, "before": before, "after": after})
    diff = {
        "before": "".join(diff_line(c["path"], c["before"]) for c in changes if c["before"]),
        "after": "".join(diff_line(c["path"], c["after"]) for c in changes),
    }
    module.exit_json(changed=bool(changes), changes=changes, diff=diff)


if __name__ == "__main__":
    main()
