# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_layout: where Debian's postgresql-common puts a cluster of a given major version."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pg_layout
short_description: The paths and unit of a PostgreSQL cluster in Debian's layout
version_added: 0.1.0
description:
  - The one place the collection spells Debian's postgresql-common layout. The roles
    M(groundwork.infra.postgresql) and M(groundwork.infra.pgbackrest) and the cluster playbooks ask it
    for a cluster's binaries, configuration and data directories, socket directory, pid file and
    systemd unit instead of writing the paths themselves.
  - The collection creates one Debian cluster per host, named C(main); C(groundwork_pg_cluster), the
    name replication and backups know a cluster by, is independent of it.
options:
  _input:
    description:
      - The PostgreSQL major version, as C(16) or C('16').
      - V(none) gives only what does not depend on the version (RV(_value.home), RV(_value.socket_dir)).
    type: raw
    required: true
  name:
    description: The Debian cluster's name (C(pg_lsclusters)' second column).
    type: str
    default: main
"""

EXAMPLES = r"""
- name: Stop the cluster restored here
  ansible.builtin.systemd_service:
    name: "{{ (16 | groundwork.infra.pg_layout).service }}"
    state: stopped
"""

RETURN = r"""
_value:
  description: The cluster's places.
  type: dict
  contains:
    version: {description: "The major version, as text.", type: str}
    bin_dir: {description: "The server's binaries (C(pg_ctl), C(pg_controldata), C(postgres))", type: str}
    conf_dir: {description: "C(postgresql.conf), C(pg_hba.conf) and the role's C(tls/).", type: str}
    data_dir: {description: The data directory., type: str}
    service: {description: "The systemd unit, as C(postgresql@16-main).", type: str}
    socket_dir: {description: Where the server puts its Unix socket., type: str}
    pid_file: {description: The pid file postgresql-common's tools read., type: str}
    home: {description: "The postgres user's home, parent of every version's data.", type: str}
"""

import re

from ansible.errors import AnsibleFilterError

HOME = "/var/lib/postgresql"
SOCKET_DIR = "/var/run/postgresql"


def pg_layout(version: object, name: str = "main") -> dict[str, str]:
    if version is None:
        return {"home": HOME, "socket_dir": SOCKET_DIR}
    major = str(version).strip()
    if not re.fullmatch(r"\d+", major):
        raise AnsibleFilterError(f"pg_layout: {version!r} is not a PostgreSQL major version (as 16)")
    if not re.fullmatch(r"[\w.-]+", name):
        raise AnsibleFilterError(f"pg_layout: {name!r} is not a cluster name pg_createcluster accepts")
    return {
        "version": major,
        "bin_dir": f"/usr/lib/postgresql/{major}/bin",
        "conf_dir": f"/etc/postgresql/{major}/{name}",
        "data_dir": f"{HOME}/{major}/{name}",
        "service": f"postgresql@{major}-{name}",
        "socket_dir": SOCKET_DIR,
        "pid_file": f"{SOCKET_DIR}/{major}-{name}.pid",
        "home": HOME,
    }


class FilterModule:
    def filters(self) -> dict:
        return {"pg_layout": pg_layout}
