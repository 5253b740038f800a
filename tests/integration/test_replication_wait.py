"""groundwork.infra.pg_replication_info waiting for a standby that takes no connections yet.

A standby rejects connections until it is consistent. After pg_rewind (pg_rejoin, a switchover's old
primary) that lasts until it has replayed up to where its source was, which on a loaded machine took
longer than its unit's start: a suite run failed in pg_rejoin's replica_wait.yml at once, "the database
system is not yet accepting connections", instead of waiting its postgresql_replica_wait_seconds.

Made to last here, on a host of its own: a standby copied without WAL (pg_basebackup -X none) whose
primary_conninfo names a port nobody listens on cannot become consistent; once it may reach its
primary, it streams.
"""

import threading
import time

import pytest
import yaml
from harness import inside, on, run, warnings_in

CONTAINER = "gw-replication-wait-test"
IMAGE = "localhost/groundwork-debian:12"
STANDBY_DIR = "/var/lib/postgresql/15/standby"


def script(text: str) -> str:
    return on(CONTAINER, "bash", "-ec", text)


@pytest.fixture(scope="module")
def host():
    run(["podman", "rm", "--force", "--time", "0", CONTAINER])
    started = run(["podman", "run", "-d", "--name", CONTAINER, "--systemd=always", IMAGE, "/sbin/init"])
    assert started.returncode == 0, started.stderr
    # What any member gets from the mirror: PostgreSQL, and the driver the role installs for its modules.
    script(
        "until systemctl is-system-running --quiet --wait; do sleep 1; done; apt-get update -qq;"
        " DEBIAN_FRONTEND=noninteractive apt-get install -qq -y --no-install-recommends postgresql python3-psycopg2"
        " >/dev/null"
    )
    yield CONTAINER
    run(["podman", "rm", "--force", "--time", "0", CONTAINER])


def wait_for_the_standby() -> dict:
    """The module's result (with wait) on the standby's port, as the postgres user, with the run's exit code."""
    done = run([
        "ansible", "all", "-i", f"{CONTAINER},", "-c", "groundwork.infra.podman_exec",
        "-e", "ansible_python_interpreter=/usr/bin/python3", "--become", "--become-user", "postgres",
        "-m", "groundwork.infra.pg_replication_info", "-a", "wait=true timeout=120 login_port=5433",
    ], timeout=300)  # fmt: skip
    # The project's ansible.cfg prints results as YAML.
    result = yaml.safe_load(done.stdout.partition("=>")[2]) or {}
    result.setdefault("msg", done.stdout + done.stderr)
    return {**result, "rc": done.returncode, "warnings": warnings_in(done.stdout + done.stderr)}


def test_a_standby_that_takes_no_connections_yet_is_waited_for_until_it_streams(host):
    script(f"""
        pg_createcluster 15 standby -p 5433 >/dev/null
        rm -rf {STANDBY_DIR}/*
        runuser -u postgres -- pg_basebackup -D {STANDBY_DIR} -R -X none -c fast -p 5432
        sed -i 's/port=5432/port=5499/' {STANDBY_DIR}/postgresql.auto.conf
        runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl start -W -D {STANDBY_DIR} -l /tmp/standby.log \\
          -o '-c config_file=/etc/postgresql/15/standby/postgresql.conf'
    """)
    # The state the wait meets: the server runs and rejects connections (pg_isready: 1).
    time.sleep(2)
    assert inside(CONTAINER, "pg_isready", "-p", "5433").returncode == 1

    answers = []
    waiting = threading.Thread(target=lambda: answers.append(wait_for_the_standby()))
    waiting.start()
    time.sleep(10)
    script(f"""
        sed -i 's/port=5499/port=5432/' {STANDBY_DIR}/postgresql.auto.conf
        runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl reload -D {STANDBY_DIR} >/dev/null
    """)
    waiting.join(timeout=200)
    answer = answers[0]
    assert answer["rc"] == 0, answer.get("msg")
    assert answer.get("receiver", {}).get("status") == "streaming", answer
    assert answer["waited_seconds"] >= 5, answer
    assert answer["warnings"] == [], answer["warnings"]
