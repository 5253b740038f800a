"""roles/pgbackrest/files/pgbackrest-gate.py as a table: a peer's SSH command in, refused or run."""

import importlib.machinery
import importlib.util

import pytest
from harness import ROOT

loader = importlib.machinery.SourceFileLoader(
    "pgbackrest_gate", str(ROOT / "roles/pgbackrest/files/pgbackrest-gate.py")
)
spec = importlib.util.spec_from_loader("pgbackrest_gate", loader)
gate = importlib.util.module_from_spec(spec)
loader.exec_module(gate)

# As observed on the lab (pgBackRest 2.x on Debian 12), exec ids shortened.
PUSH = (
    "/usr/bin/pgbackrest --archive-async --exec-id=1-ab --log-level-console=off --log-level-file=off"
    " --log-level-stderr=error --process=0 --remote-type=repo --repo=1 --stanza=main archive-push:remote"
)
BACKUP = (
    "pgbackrest --exec-id=2-cd --log-level-console=off --log-level-file=off --log-level-stderr=error"
    " --pg1-path=/var/lib/postgresql/15/main --pg1-port=5432 --pg1-socket-path=/var/run/postgresql"
    " --process=1 --remote-type=pg --stanza=main backup:remote"
)
DATABASE_KEY = (
    "--binary /usr/bin/pgbackrest --remote-type repo"
    " --commands archive-push,archive-get,check,info,restore --stanzas main"
)
REPOSITORY_KEY = "--binary /usr/bin/pgbackrest --remote-type pg --commands backup,check,stanza-create --stanzas main"


@pytest.mark.parametrize(
    ("key", "command", "why"),
    [
        (DATABASE_KEY, PUSH, None),
        (REPOSITORY_KEY, BACKUP, None),
        (DATABASE_KEY, "pgbackrest --stanza=other stanza-delete", "'stanza-delete' is not a pgBackRest remote"),
        (DATABASE_KEY, "pgbackrest --stanza=other --force stanza-delete:remote", "'stanza-delete:remote' is not"),
        (DATABASE_KEY, PUSH.replace("--stanza=main", "--stanza=billing"), "stanza 'billing' is not one"),
        (DATABASE_KEY, PUSH.replace("--repo=1", "--repo1-path=/"), "option '--repo1-path' is not"),
        (DATABASE_KEY, PUSH.replace("--repo=1", "--config=/tmp/evil.conf"), "option '--config' is not"),
        (DATABASE_KEY, PUSH.replace("--repo=1", "--cmd-ssh=/tmp/x"), "option '--cmd-ssh' is not"),
        (DATABASE_KEY, PUSH.replace("--remote-type=repo", "--remote-type=pg"), "serves repo remotes"),
        (DATABASE_KEY, "sh -c id", "only pgbackrest may run"),
        (DATABASE_KEY, "pgbackrest 'unbalanced", "cannot be parsed"),
        (DATABASE_KEY, PUSH + "; id", "is not a pgBackRest remote"),
        (REPOSITORY_KEY, PUSH, "'archive-push:remote' is not"),
    ],
    ids=[
        "archive-push", "backup", "stanza-delete", "stanza-delete-remote", "other-stanza", "repo-path", "config",
        "cmd-ssh", "remote-type", "not-pgbackrest", "unparsable", "shell-tail", "wrong-direction",
    ],
)  # fmt: skip
def test_a_peer_runs_only_what_its_key_allows(key, command, why):
    found = gate.refusal(command, gate.parse(key.split()))
    if why is None:
        assert found is None
    else:
        assert found is not None
        assert why in found
