"""Local-connection inventories and playbooks for the wrapper's tests (imported as `runner_harness`)."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

SECRET = "s3cr3t-Extravar-7f1c"
VAULT_PASSWORD = "vault-Pass-91ab"

PLAYBOOKS = {
    "ok.yml": """
        - name: Three quick tasks
          hosts: all
          gather_facts: false
          tasks:
            - name: Say hello
              ansible.builtin.debug:
                msg: "hello {{ marker | default('none') }}"
            - name: Use the secret without showing it
              ansible.builtin.command: "echo {{ db_password | default('x') }}"
              no_log: true
              changed_when: true
            - name: Read the vaulted file
              ansible.builtin.debug:
                msg: "{{ lookup('ansible.builtin.unvault', vault_file) | length if vault_file is defined else 0 }}"
    """,
    "fail.yml": """
        - name: One host fails
          hosts: all
          gather_facts: false
          tasks:
            - name: Fail on h2 only
              ansible.builtin.fail:
                msg: h2 is broken on purpose
              when: inventory_hostname == 'h2'
            - name: After the failure
              ansible.builtin.debug:
                msg: still here
    """,
    "echo.yml": """
        - name: Shows a variable as it arrived
          hosts: h1
          gather_facts: false
          tasks:
            - name: Show it
              ansible.builtin.debug:
                msg: "got {{ given }}"
    """,
    "slow.yml": """
        - name: Sleeps for a long time
          hosts: all
          gather_facts: false
          tasks:
            - name: Sleep
              ansible.builtin.command: sleep 120
    """,
    "write.yml": """
        - name: Writes a file
          hosts: all
          gather_facts: false
          tasks:
            - name: Write the file
              ansible.builtin.copy:
                content: "new content\\n"
                dest: "{{ target_file }}"
                mode: "0644"
    """,
    "write_secret.yml": """
        - name: Writes a file whose content is a secret
          hosts: all
          gather_facts: false
          tasks:
            - name: Write the secret file
              ansible.builtin.copy:
                content: "{{ secret_content }}"
                dest: "{{ target_file }}"
                mode: "0600"
              no_log: true
    """,
    "ping.yml": """
        - name: Reaches every host
          hosts: all
          gather_facts: false
          tasks:
            - name: Ping
              ansible.builtin.ping:
    """,
    "agent.yml": """
        - name: Lists the keys ssh-agent holds
          hosts: all
          gather_facts: false
          tasks:
            - name: List agent keys
              ansible.builtin.command: ssh-add -l
              changed_when: false  # listing the agent's keys changes nothing
    """,
}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    for name, text in PLAYBOOKS.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    (tmp_path / "hosts.ini").write_text(
        "[all]\nh1\nh2\n[all:vars]\nansible_connection=local\n"
        "ansible_python_interpreter={{ ansible_playbook_python }}\n"
    )
    (tmp_path / "one.ini").write_text(
        "[all]\nh1\n[all:vars]\nansible_connection=local\nansible_python_interpreter={{ ansible_playbook_python }}\n"
    )
    # Nothing listens on port 9 of the loopback address: ssh fails at once.
    (tmp_path / "unreachable.ini").write_text(
        "[local]\nh1\n[local:vars]\nansible_connection=local\n"
        "ansible_python_interpreter={{ ansible_playbook_python }}\n"
        "[remote]\ngone ansible_host=127.0.0.1 ansible_port=9 ansible_connection=ssh ansible_ssh_timeout=3\n"
    )
    return tmp_path


@pytest.fixture
def vault_file(workdir: Path) -> Path:
    """A file encrypted with VAULT_PASSWORD, so a run can only read it given the password."""
    path = workdir / "vaulted.txt"
    path.write_text("the vaulted content\n")
    password_file = workdir / "pw.tmp"
    password_file.write_text(VAULT_PASSWORD)
    subprocess.run(
        ["ansible-vault", "encrypt", "--vault-password-file", str(password_file), str(path)],
        check=True,
        capture_output=True,
    )
    password_file.unlink()
    return path


def files_containing(root: Path, needle: str) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if needle.encode() in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found


def ansible_processes(marker: str) -> list[str]:
    out = subprocess.run(["pgrep", "-af", marker], capture_output=True, text=True, check=False).stdout
    return [line for line in out.splitlines() if "ansible" in line and "pgrep" not in line]
