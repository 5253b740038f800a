"""Hold dpkg's frontend lock as an unattended upgrade running on a fresh host does.

Released only once Ansible's apt module has waited for it longer than apt's own default of 60 s
(its invocation, which every module logs to the journal, marks the start of the wait): so the
scenario proves the roles' `lock_timeout`, and costs no more than that wait. Prints what it saw
for the verify step to check; gives up after ten minutes if apt never asks.
"""

import fcntl
import json
import subprocess
import time

WAIT = 70  # seconds apt must have waited: past its default lock timeout of 60 s
GIVE_UP = 600


def apt_asked(since: float) -> float | None:
    """When Ansible's apt module first logged its invocation after `since`, if it has."""
    journal = subprocess.run(
        ["journalctl", f"--since=@{since:.0f}", "--output=json", "--output-fields=SYSLOG_IDENTIFIER"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in journal.stdout.splitlines():
        entry = json.loads(line)
        if entry.get("SYSLOG_IDENTIFIER", "").removeprefix("ansible-") in ("apt", "ansible.builtin.apt"):
            return int(entry["__REALTIME_TIMESTAMP"]) / 1e6
    return None


with open("/var/lib/dpkg/lock-frontend", "w") as lock:
    fcntl.lockf(lock, fcntl.LOCK_EX)
    held_from = time.time()
    print("holding dpkg's lock", flush=True)
    asked = None
    while time.time() - held_from < GIVE_UP:
        asked = asked or apt_asked(held_from)
        if asked and time.time() - asked >= WAIT:
            break
        time.sleep(1)
    if asked:
        print(
            f"released dpkg's lock {time.time() - asked:.0f} s after apt first asked for it,"
            f" {time.time() - held_from:.0f} s after taking it",
            flush=True,
        )
    else:
        print("released dpkg's lock: apt never asked for it", flush=True)
