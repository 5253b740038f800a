#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: audit_metrics
short_description: A host's latest audit figures as metrics for the node exporter's textfile collector
version_added: 0.1.0
description:
  - Writes the Lynis hardening index and, per OpenSCAP profile, the pass rate and the count of failed
    rules into one textfile, each figure beside its value at the audit before (metrics ending in
    C(_previous)), so that Prometheus can tell a drop (the monitoring role's C(AuditScoreDropped)).
  - A profile not evaluated this time keeps its figures as they were; so does the Lynis index when
    Lynis did not run.
  - Written whole and moved into place, never half-read by the collector.
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
  path:
    description: The textfile (in the node exporter's textfile directory, ending in C(.prom)).
    type: path
    required: true
    version_added: 0.1.0
  lynis_hardening_index:
    description: Lynis's hardening index at this audit; omitted when Lynis did not run.
    type: int
    version_added: 0.1.0
  openscap:
    description:
      - The OpenSCAP result as M(groundwork.infra.audit_results_info) returns it (C(profile),
        C(pass_percent), C(evaluated), C(counts)); omitted when OpenSCAP did not run.
    type: dict
    version_added: 0.1.0
"""

EXAMPLES = r"""
- name: Export the audit's figures
  groundwork.infra.audit_metrics:
    path: /var/lib/prometheus/node-exporter/groundwork_audit.prom
    lynis_hardening_index: "{{ audit.lynis.hardening_index }}"
    openscap: "{{ audit.openscap }}"
"""

RETURN = r"""
metrics:
  description: The textfile's content.
  returned: always
  type: str
"""

import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.infra.plugins.module_utils.audit_reports import audit_metrics


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "lynis_hardening_index": {"type": "int"},
            "openscap": {"type": "dict"},
        },
        supports_check_mode=True,
    )
    path = module.params["path"]
    try:
        with open(path, encoding="utf-8") as textfile:
            before = textfile.read()
    except FileNotFoundError:
        before = ""  # this host's first audit
    except OSError as error:
        module.fail_json(msg=f"cannot read {path}: {error}")
    openscap = module.params["openscap"]
    if openscap is not None and not {"profile", "pass_percent", "evaluated", "counts"} <= set(openscap):
        module.fail_json(
            msg="openscap needs profile, pass_percent, evaluated and counts (audit_results_info's openscap)"
        )
    metrics = audit_metrics(before, module.params["lynis_hardening_index"], openscap, time.time())
    if not module.check_mode:
        # Beside the target, so that the move is a rename; a dot name the collector never reads.
        handle, staged = tempfile.mkstemp(prefix=".audit.", dir=os.path.dirname(path))
        with os.fdopen(handle, "w", encoding="utf-8") as textfile:
            textfile.write(metrics)
        os.chmod(staged, 0o644)
        module.atomic_move(staged, path)
    module.exit_json(changed=True, metrics=metrics)


if __name__ == "__main__":
    main()
