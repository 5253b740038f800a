#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pg_replication_info
short_description: Streaming replication state of a PostgreSQL server, and waiting for it
version_added: 0.1.0
description:
  - On a primary, each standby's state, sent/write/flush/replay LSN, lag in bytes and seconds,
    whether it connects over TLS, and the replication slots with whether they are active, the WAL
    each holds back (C(retained_bytes)), its C(wal_status) (V(lost) once past
    C(max_slot_wal_keep_size)) and how much more it may hold (C(safe_wal_size), null when unlimited).
  - On a standby, the WAL receiver's status and upstream, received and replayed LSN and the
    replay lag; standbys feeding cascaded standbys list those too.
  - Always the server's role and timeline.
  - With O(wait), polls until replication is streaming (and, with O(max_lag_bytes), caught up)
    or fails after O(timeout) seconds; playbooks use this to hold back until replicas are ready.
    A server that runs but rejects connections yet (a standby before it is consistent, as after
    C(pg_rewind)) is waited for within the same O(timeout), asked with C(pg_isready).
  - Read-only; supports check mode.
author: groundwork.infra maintainers (@groundwork-infra)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - community.postgresql.postgres
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  login_db:
    description: Database to connect to.
    type: str
    default: postgres
    version_added: 0.1.0
  wait:
    description:
      - Wait until replication streams. On a primary, until O(min_replicas) standbys stream;
        on a standby, until its WAL receiver streams.
    type: bool
    default: false
    version_added: 0.1.0
  min_replicas:
    description: On a primary with O(wait), how many standbys must be streaming.
    type: int
    default: 1
    version_added: 0.1.0
  max_lag_bytes:
    description:
      - With O(wait), also wait until the lag is at most this many bytes (on a primary, for
        O(min_replicas) standbys; on a standby, received but not yet replayed WAL).
    type: int
    version_added: 0.1.0
  timeout:
    description: Seconds to wait before failing.
    type: int
    default: 120
    version_added: 0.1.0
requirements:
  - psycopg2 or psycopg on the managed host
notes:
  - Run as a superuser or a member of C(pg_monitor); otherwise PostgreSQL hides the LSNs of
    other users' connections.
"""

EXAMPLES = r"""
- name: Read the replication state
  groundwork.infra.pg_replication_info:
    login_unix_socket: /var/run/postgresql
  become: true
  become_user: postgres
  register: replication

- name: Wait until both replicas stream less than 1 MiB behind
  groundwork.infra.pg_replication_info:
    wait: true
    min_replicas: 2
    max_lag_bytes: 1048576
    timeout: 300
  become: true
  become_user: postgres
"""

RETURN = r"""
role:
  description: V(primary) or V(standby).
  returned: always
  type: str
in_recovery:
  description: Whether the server is in recovery (a standby).
  returned: always
  type: bool
timeline:
  description: The timeline the server is on (a standby's is the one it receives).
  returned: always
  type: int
current_lsn:
  description: The primary's current WAL insert location, or the standby's last received one.
  returned: always
  type: str
replay_lsn:
  description: On a standby, the last replayed location; on a primary, the same as RV(current_lsn).
  returned: always
  type: str
replicas:
  description: Standbys streaming from this server (pg_stat_replication joined with pg_stat_ssl).
  returned: always
  type: list
  elements: dict
  sample:
    - application_name: gw_pg2
      client_addr: 10.89.0.3
      state: streaming
      sync_state: async
      sent_lsn: 0/3000148
      write_lsn: 0/3000148
      flush_lsn: 0/3000148
      replay_lsn: 0/3000148
      lag_bytes: 0
      write_lag_seconds: 0.0004
      flush_lag_seconds: 0.0009
      replay_lag_seconds: 0.001
      ssl: true
      ssl_version: TLSv1.3
slots:
  description: Replication slots on this server, with the WAL each holds back and may still hold.
  returned: always
  type: list
  elements: dict
  sample:
    - slot_name: gw_pg2
      slot_type: physical
      active: true
      restart_lsn: 0/3000148
      retained_bytes: 0
      wal_status: reserved
      safe_wal_size: 1073741824
receiver:
  description: On a standby, the WAL receiver; empty on a primary or when no receiver runs.
  returned: always
  type: dict
  sample:
    status: streaming
    sender_host: 10.89.0.2
    sender_port: 5432
    slot_name: gw_pg2
    received_tli: 1
    received_lsn: 0/3000148
    replay_lsn: 0/3000148
    lag_bytes: 0
    replay_lag_seconds: 0.0
waited_seconds:
  description: How long O(wait) waited.
  returned: always
  type: float
queries:
  description: The SQL run (one round; a wait repeats it).
  returned: always
  type: list
  elements: str
"""

import time
from decimal import Decimal
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.community.postgresql.plugins.module_utils.postgres import (
    connect_to_db,
    ensure_required_libs,
    get_conn_params,
    postgres_common_argument_spec,
)

CURRENT_LSN = (
    "CASE WHEN pg_is_in_recovery() THEN coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())"
    " ELSE pg_current_wal_lsn() END"
)

SERVER_QUERY = (
    "SELECT pg_is_in_recovery() AS in_recovery, "
    f"({CURRENT_LSN})::text AS current_lsn, "
    "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS replay_lsn, "
    "CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint()) "
    "ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS timeline"
)

REPLICAS_QUERY = (
    "SELECT r.application_name, host(r.client_addr) AS client_addr, r.state, r.sync_state, "
    "r.sent_lsn::text, r.write_lsn::text, r.flush_lsn::text, r.replay_lsn::text, "
    f"pg_wal_lsn_diff({CURRENT_LSN}, r.replay_lsn)::bigint AS lag_bytes, "
    "extract(epoch FROM r.write_lag) AS write_lag_seconds, "
    "extract(epoch FROM r.flush_lag) AS flush_lag_seconds, "
    "extract(epoch FROM r.replay_lag) AS replay_lag_seconds, "
    "coalesce(s.ssl, false) AS ssl, s.version AS ssl_version "
    "FROM pg_stat_replication r LEFT JOIN pg_stat_ssl s ON s.pid = r.pid ORDER BY r.application_name"
)

SLOTS_QUERY = (
    "SELECT slot_name, slot_type, active, restart_lsn::text, "
    f"pg_wal_lsn_diff({CURRENT_LSN}, restart_lsn)::bigint AS retained_bytes, wal_status, safe_wal_size "
    "FROM pg_replication_slots ORDER BY slot_name"
)

RECEIVER_QUERY = (
    "SELECT status, sender_host, sender_port, slot_name, received_tli, "
    "pg_last_wal_receive_lsn()::text AS received_lsn, pg_last_wal_replay_lsn()::text AS replay_lsn, "
    "pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint AS lag_bytes, "
    "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END AS replay_lag_seconds "
    "FROM pg_stat_wal_receiver"
)


def _plain(value: object) -> object:
    return float(value) if isinstance(value, Decimal) else value


def fetch(cursor: Any, query: str) -> list[dict]:
    """Rows as dicts, whether psycopg2 (tuples) or psycopg 3 (dict_row) made the cursor."""
    cursor.execute(query)
    names = [column[0] for column in cursor.description]
    rows = []
    for row in cursor.fetchall():
        values = row.values() if isinstance(row, dict) else row
        rows.append({name: _plain(value) for name, value in zip(names, values, strict=True)})
    return rows


def read_state(cursor: Any) -> dict:
    server = fetch(cursor, SERVER_QUERY)[0]
    receiver_rows = fetch(cursor, RECEIVER_QUERY) if server["in_recovery"] else []
    receiver = receiver_rows[0] if receiver_rows else {}
    timeline = receiver.get("received_tli") or server["timeline"]
    return {
        "role": "standby" if server["in_recovery"] else "primary",
        "in_recovery": server["in_recovery"],
        "timeline": int(timeline),
        "current_lsn": server["current_lsn"],
        "replay_lsn": server["replay_lsn"],
        "replicas": fetch(cursor, REPLICAS_QUERY),
        "slots": fetch(cursor, SLOTS_QUERY),
        "receiver": receiver,
    }


def caught_up(state: dict, min_replicas: int, max_lag_bytes: int | None) -> bool:
    """Whether the wait is over: enough streaming standbys, or a streaming receiver, within the lag."""

    def within(lag: object) -> bool:
        return max_lag_bytes is None or (lag is not None and int(lag) <= max_lag_bytes)

    if state["in_recovery"]:
        receiver = state["receiver"]
        return receiver.get("status") == "streaming" and within(receiver.get("lag_bytes"))
    streaming = [r for r in state["replicas"] if r["state"] == "streaming" and within(r["lag_bytes"])]
    return len(streaming) >= min_replicas


def wait_until_accepting(module: AnsibleModule, params: dict, deadline: float) -> None:
    """With wait: a server that runs but rejects connections is waited for, not failed on.

    A standby rejects connections until it is consistent; after pg_rewind that lasts until it has
    replayed up to where its source was, which can outlast its unit's start. pg_isready tells that
    state (exit code 1) from a server that is not there (2), which fails at once below.
    """
    pg_isready = module.get_bin_path("pg_isready")
    if not pg_isready:
        return
    # Where get_conn_params connects: the socket for a local server, else the host.
    local = params["login_host"] in ("", "localhost")
    where = params["login_unix_socket"] if local and params["login_unix_socket"] else params["login_host"]
    command = [pg_isready, "--quiet", "--port", str(params["login_port"]), *(["--host", where] if where else [])]
    while module.run_command(command)[0] == 1 and time.monotonic() < deadline:
        time.sleep(1)


def main() -> None:
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        login_db=dict(type="str", default="postgres"),
        wait=dict(type="bool", default=False),
        min_replicas=dict(type="int", default=1),
        max_lag_bytes=dict(type="int"),
        timeout=dict(type="int", default=120),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    ensure_required_libs(module)
    started = time.monotonic()
    if params["wait"]:
        wait_until_accepting(module, params, started + params["timeout"])
    connection, _error = connect_to_db(module, get_conn_params(module, params, warn_db_default=False), autocommit=True)
    cursor = connection.cursor()
    try:
        state = read_state(cursor)
        while params["wait"] and not caught_up(state, params["min_replicas"], params["max_lag_bytes"]):
            if time.monotonic() - started > params["timeout"]:
                module.fail_json(
                    msg=f"replication did not catch up within {params['timeout']} s "
                    f"(min_replicas={params['min_replicas']}, max_lag_bytes={params['max_lag_bytes']})",
                    **state,
                )
            time.sleep(1)
            state = read_state(cursor)
    finally:
        cursor.close()
        connection.close()
    queries = [SERVER_QUERY, REPLICAS_QUERY, SLOTS_QUERY] + ([RECEIVER_QUERY] if state["in_recovery"] else [])
    module.exit_json(changed=False, waited_seconds=round(time.monotonic() - started, 3), queries=queries, **state)


if __name__ == "__main__":
    main()
