"""The collection builds, installs from its tarball and lists what it ships."""

import re
import tarfile

import pytest
from harness import ROOT, build_and_install, project_env, run, tail


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("collection")
    target = work / "installed"
    tarball = build_and_install(work, target)
    # The installed copy first, then the vendored dependencies (without our symlinked tree).
    env = project_env(ANSIBLE_COLLECTIONS_PATH=f"{target}:{ROOT / '.collections'}")
    return tarball, target, env


def test_tarball_leaves_out_development_files(installed):
    tarball, _, _ = installed
    with tarfile.open(tarball) as archive:
        top = {name.split("/")[0] for name in archive.getnames()}
    assert {"roles", "playbooks", "meta", "MANIFEST.json", "FILES.json", "README.md"} <= top
    for dev_only in (
        "molecule",
        "tests",
        "scripts",
        "inventories",
        "runner",
        ".venv",
        ".collections",
        ".ci",
        ".github",
        ".gitlab-ci.yml",
        ".gitlab-ci-local",
    ):
        assert dev_only not in top, dev_only


def test_installed_collection_lists_its_roles(installed):
    _, target, env = installed
    listed = run(["ansible-doc", "-t", "role", "-l", "groundwork.infra"], env=env)
    assert listed.returncode == 0, tail(listed.stderr)
    assert "groundwork.infra.server" in listed.stdout
    assert "groundwork.infra.postgresql" in listed.stdout
    assert str(target) in run(["ansible-galaxy", "collection", "list", "groundwork.infra"], env=env).stdout


def test_installed_role_documents_its_inputs(installed):
    _, _, env = installed
    roles = (
        ("server", "server_admin_users"),
        ("postgresql", "postgresql_replication_password"),
        ("pgbackrest", "pgbackrest_repo_cipher_password"),
        ("pgbackrest", "pgbackrest_restore_overwrite"),
        ("hardening", "hardening_firewall_admin_networks"),
    )
    for role, option in roles:
        doc = run(["ansible-doc", "-t", "role", f"groundwork.infra.{role}"], env=env)
        assert doc.returncode == 0, tail(doc.stderr)
        assert option in doc.stdout


@pytest.mark.parametrize(
    ("kind", "name", "text"),
    [
        ("module", "pg_replication_info", "max_lag_bytes"),
        ("module", "pgbackrest_info", "newest_backup_age"),
        ("module", "pgbackrest_backup", "newer_than"),
        ("module", "file_modes", "owner"),
        ("module", "file_modes", "directory"),
        ("module", "systemd_units", "daemon_reload"),
        ("module", "postgresql_stop", "release_wait"),
        ("module", "config_keywords", "separator"),
        ("module", "config_files", "validate"),
        ("module", "deb_packages_info", "not_purged"),
        ("filter", "pg_tune", "workload"),
        ("filter", "pg_topology", "problems"),
        ("filter", "pg_history", "timeline"),
        ("filter", "pg_layout", "socket_dir"),
        ("test", "pg_cluster_name", "archive_command"),
        ("test", "pg_object_name", "pg_hba.conf"),
        ("inventory", "ec2", "strict_tags"),
        ("inventory", "rds", "strict_tags"),
        ("connection", "podman_exec", "pipelining"),
        ("connection", "podman_exec", "nsenter"),
        ("inventory", "ec2", "groundwork:roles"),
    ],
)
def test_installed_plugins_render_their_documentation(installed, kind, name, text):
    _, _, env = installed
    doc = run(["ansible-doc", "-t", kind, f"groundwork.infra.{name}"], env=env)
    assert doc.returncode == 0, tail(doc.stderr)
    assert text in doc.stdout


# Every plugin the collection ships, by the directory it lives in: a new one is checked without being
# listed (a filter's unparsable DOCUMENTATION once went unnoticed because no row above named it).
PLUGIN_KINDS = {
    "modules": "module",
    "filter": "filter",
    "test": "test",
    "inventory": "inventory",
    "connection": "connection",
}


@pytest.mark.parametrize("directory", sorted(PLUGIN_KINDS))
def test_every_installed_plugin_renders_its_documentation(installed, directory):
    _, _, env = installed
    names = sorted(path.stem for path in (ROOT / "plugins" / directory).glob("*.py") if path.stem != "__init__")
    assert names, f"no plugin in plugins/{directory}"
    kind = PLUGIN_KINDS[directory]
    doc = run(["ansible-doc", "-t", kind, *(f"groundwork.infra.{name}" for name in names)], env=env)
    assert doc.returncode == 0, tail(doc.stderr)
    assert "[ERROR]" not in doc.stderr, tail(doc.stderr)
    assert "[WARNING]" not in doc.stderr, tail(doc.stderr)
    for name in names:
        assert f"groundwork.infra.{name}" in doc.stdout, f"{kind} {name} rendered no documentation"


def test_the_postgresql_role_documents_each_procedure_as_an_entry_point(installed):
    _, _, env = installed
    doc = run(["ansible-doc", "-t", "role", "groundwork.infra.postgresql"], env=env)
    assert doc.returncode == 0, tail(doc.stderr)
    # ansible-doc marks the names up (bold, or *name* without a terminal).
    shown = set(re.findall(r"ENTRY POINT: (?:\x1b\[1m|\*)?(\w+)", doc.stdout))
    # The cluster procedures (both modes), and what the pgbackrest role uses: the one way settings are
    # applied, the install.
    assert shown == {
        "main",
        "add_replica",
        "switchover",
        "failover",
        "patroni_failover",
        "rejoin",
        "leave_patroni",
        "apply_settings",
        "install",
    }


def test_installed_playbooks_resolve_by_name(installed):
    _, _, env = installed
    playbooks = (
        "site",
        "server",
        "postgresql",
        "pg_add_replica",
        "pg_switchover",
        "pg_failover",
        "pg_rejoin",
        "pg_leave_patroni",
        "backup",
        "backup_now",
        "restore",
        "verify_backup",
        "hardening",
        "patch",
    )
    for playbook in (f"groundwork.infra.{name}" for name in playbooks):
        check = run(["ansible-playbook", "--syntax-check", "-i", str(ROOT / "inventories" / "lab"), playbook], env=env)
        assert check.returncode == 0, tail(check.stdout + check.stderr)
