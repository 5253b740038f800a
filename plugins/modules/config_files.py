#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: config_files
short_description: Write several whole configuration files of ours in one call, each checked before it is installed
version_added: 0.1.0
description:
  - For files that are wholly ours (a drop-in, an allow list, a profile), given with their full text,
    usually rendered on the controller with P(ansible.builtin.template#lookup).
  - One module run for all of them, where M(ansible.builtin.template) or M(ansible.builtin.copy) in a
    loop costs two module runs per file and host even when nothing changes (a stat, then a file call
    for the attributes).
  - Every file whose text changes is first written next to its destination and checked with its
    O(files[].validate) command; when any check fails, no file is installed and the result names the
    file and the checker's output. Then each is moved into place atomically.
  - Owner, group and mode are set on every file given, changed or not, as M(ansible.builtin.copy) does.
  - In check mode nothing is written and no checker runs; the result says what would change, with a
    diff per file in diff mode.
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
  files:
    description: The files, in the order they are checked and installed.
    type: list
    elements: dict
    required: true
    version_added: 0.1.0
    suboptions:
      path:
        description: Where the file goes. Its directory must exist.
        type: path
        required: true
        version_added: 0.1.0
      content:
        description:
          - The file's whole text. Required with O(files[].state=present).
          - "Give a task that passes secrets C(no_log: true)."
        type: str
        version_added: 0.1.0
      owner:
        description: Its owner; the current one (or root for a new file) when left out.
        type: str
        version_added: 0.1.0
      group:
        description: Its group; the current one (or root's for a new file) when left out.
        type: str
        version_added: 0.1.0
      mode:
        description: Its mode, an octal string such as C("0644").
        type: str
        version_added: 0.1.0
      validate:
        description:
          - A command that checks the new text before it is installed; C(%s) is the path of a copy of it.
          - Runs only when the text changes, as with M(ansible.builtin.template).
        type: str
        version_added: 0.1.0
      state:
        description: C(absent) removes the file (C(content) is then not needed).
        type: str
        choices: [present, absent]
        default: present
        version_added: 0.1.0
      enabled:
        description:
          - C(false) leaves the file alone (neither written nor removed), so that one list can carry the
            files of features that are turned off.
        type: bool
        default: true
        version_added: 0.1.0
"""

EXAMPLES = r"""
- name: Let only root use cron and at, and drop the deny lists
  groundwork.infra.config_files:
    files:
      - {path: /etc/cron.allow, content: "root\n", mode: "0600"}
      - {path: /etc/at.allow, content: "root\n", mode: "0600"}
      - {path: /etc/cron.deny, state: absent}

- name: Core dumps off, when asked
  groundwork.infra.config_files:
    files:
      - path: /etc/security/limits.d/70-local.conf
        content: "* hard core 0\n"
        enabled: "{{ core_dumps_off }}"

- name: An sshd drop-in, checked by sshd before it is installed
  groundwork.infra.config_files:
    files:
      - path: /etc/ssh/sshd_config.d/60-local.conf
        content: "{{ lookup('ansible.builtin.template', 'sshd.conf.j2') }}"
        mode: "0600"
        validate: /usr/sbin/sshd -t -f %s
  notify: Reload sshd
"""

RETURN = r"""
changed_files:
  description: The paths whose text, attributes or presence changed (or would, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [/etc/cron.allow]
"""

import os
import tempfile
from dataclasses import dataclass

from ansible.module_utils.basic import AnsibleModule


@dataclass(frozen=True)
class Plan:
    """What one entry asks for against what the host has."""

    path: str
    before: bytes | None  # None: no such file
    after: bytes | None  # None: the file must not exist

    @property
    def text_changes(self) -> bool:
        return self.before != self.after


def read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except FileNotFoundError:
        return None


def plan_of(entry: dict) -> Plan:
    path = entry["path"]
    after = None if entry["state"] == "absent" else entry["content"].encode("utf-8")
    return Plan(path=path, before=read(path), after=after)


def problems(entries: list[dict], check_mode: bool = False) -> list[str]:
    """What is wrong with the request itself, found before any file is read or written.

    In check mode a missing directory is taken as one an earlier task would have made (a role's
    directory task reports it would, and makes nothing): the file is reported as new.
    """
    found = []
    seen: set[str] = set()
    for entry in entries:
        path = entry["path"]
        if path in seen:
            found.append(f"{path} is given twice")
        seen.add(path)
        if entry["state"] == "present":
            if entry["content"] is None:
                found.append(f"{path}: content is required when state is present")
            if not check_mode and not os.path.isdir(os.path.dirname(path) or "/"):
                found.append(f"{path}: its directory does not exist (create it first)")
        if entry["validate"] and "%s" not in entry["validate"]:
            found.append(f"{path}: validate must contain %s (the path of the copy to check)")
    return found


def diff_of(plan: Plan) -> dict[str, str]:
    def text(data: bytes | None) -> str:
        return "" if data is None else data.decode("utf-8", errors="replace")

    return {
        "before_header": plan.path,
        "after_header": plan.path,
        "before": text(plan.before),
        "after": text(plan.after),
    }


def staged_copy(plan: Plan) -> str:
    """The new text written next to its destination (private until moved), so the move is a rename."""
    handle, staged = tempfile.mkstemp(dir=os.path.dirname(plan.path), prefix=".groundwork-")
    with os.fdopen(handle, "wb") as stream:
        stream.write(plan.after or b"")
    return staged


def install(module: AnsibleModule, entry: dict, staged: str, path: str) -> None:
    """Give the checked copy the file's attributes before it becomes the file: no moment with others."""
    if os.path.exists(path):
        current = os.stat(path)
        os.chown(staged, current.st_uid, current.st_gid)
        os.chmod(staged, current.st_mode & 0o7777)
    elif entry["mode"] is None:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staged, 0o666 & ~umask)
    module.set_fs_attributes_if_different(module.load_file_common_arguments(entry, path=staged), False)
    os.rename(staged, path)
    if module.selinux_enabled():
        module.set_default_selinux_context(path, False)


def stage_and_check(module: AnsibleModule, entries: list[dict], plans: list[Plan], staged: dict[str, str]) -> None:
    """Every changed text written next to its file and checked before any file is installed, so that
    a refused one leaves the host as it was."""
    for entry, plan in zip(entries, plans, strict=True):
        if plan.after is None or not plan.text_changes:
            continue
        staged[plan.path] = staged_copy(plan)
        if entry["validate"]:
            rc, out, err = module.run_command(entry["validate"] % staged[plan.path])
            if rc != 0:
                module.fail_json(
                    msg=f"{plan.path} was not installed: {entry['validate'] % '<new text>'} refused it "
                    f"(rc {rc}); no file of this task was changed",
                    stdout=out,
                    stderr=err,
                )


def apply(
    module: AnsibleModule, entries: list[dict], plans: list[Plan], staged: dict[str, str]
) -> tuple[list[str], list[dict]]:
    """Each file put in place (or removed) and given its attributes: the paths that changed, and diffs."""
    changed_files, diff = [], []
    for entry, plan in zip(entries, plans, strict=True):
        changed = plan.text_changes
        if plan.after is None:
            if changed and not module.check_mode:
                os.unlink(plan.path)
        else:
            if plan.path in staged:
                install(module, entry, staged.pop(plan.path), plan.path)
            # A file check mode has not written cannot be inspected; its attributes come with it.
            if plan.before is not None or not module.check_mode:
                file_args = module.load_file_common_arguments(entry, path=plan.path)
                changed = module.set_fs_attributes_if_different(file_args, changed)
        if changed:
            changed_files.append(plan.path)
            if plan.text_changes:
                diff.append(diff_of(plan))
    return changed_files, diff


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "files": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "path": {"type": "path", "required": True},
                    "content": {"type": "str"},
                    "owner": {"type": "str"},
                    "group": {"type": "str"},
                    "mode": {"type": "str"},
                    "validate": {"type": "str"},
                    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
                    "enabled": {"type": "bool", "default": True},
                },
            },
        },
        supports_check_mode=True,
    )
    entries = [entry for entry in module.params["files"] if entry["enabled"]]
    found = problems(entries, module.check_mode)
    if found:
        module.fail_json(msg="; ".join(found))
    plans = [plan_of(entry) for entry in entries]

    staged: dict[str, str] = {}
    try:
        if not module.check_mode:
            stage_and_check(module, entries, plans, staged)
        changed_files, diff = apply(module, entries, plans, staged)
    finally:
        for path in staged.values():
            os.unlink(path)
    module.exit_json(changed=bool(changed_files), changed_files=changed_files, diff=diff)


if __name__ == "__main__":
    main()
