"""What groundwork.infra.server leaves on a host, checked on the host itself (hardened after it)."""

import os
from pathlib import Path

import pytest

# prepare.yml made alice's key pair; converge.yml gave her its public half.
ALICE_KEY = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "admin_key.pub"


def test_admin_users_have_their_keys_only(host):
    alice = host.user("alice")
    assert alice.exists
    assert "admins" in alice.groups
    assert alice.shell == "/bin/bash"
    keys = host.file("/home/alice/.ssh/authorized_keys")
    assert keys.user == "alice"
    assert keys.mode == 0o600
    assert keys.content_string.strip().splitlines() == [ALICE_KEY.read_text().strip()]


def test_admins_have_no_password(host):
    shadow = host.check_output("getent shadow alice").split(":")
    assert shadow[1] == "*"


def test_admins_can_sudo_without_password(host):
    out = host.run("runuser -u bob -- sudo -n id -u")
    assert out.rc == 0, out.stderr
    assert out.stdout.strip() == "0"


def test_other_users_cannot_sudo(host):
    host.run("useradd --create-home eve || true")
    out = host.run("runuser -u eve -- sudo -n true")
    assert out.rc != 0


def test_former_admin_removed(host):
    assert not host.user("mallory").exists


def test_sudoers_file_is_valid_and_private(host):
    sudoers = host.file("/etc/sudoers.d/60-groundwork-admins")
    assert sudoers.mode == 0o440
    assert "%admins ALL=(ALL:ALL) NOPASSWD: ALL" in sudoers.content_string
    assert host.run("visudo -c").rc == 0


def test_timezone(host):
    assert host.file("/etc/localtime").linked_to == "/usr/share/zoneinfo/Europe/Berlin"
    assert host.file("/etc/timezone").content_string.strip() == "Europe/Berlin"
    assert host.check_output("date +%Z") in ("CET", "CEST")


def test_locales(host):
    available = host.check_output("locale -a").lower()
    assert "en_us.utf8" in available
    assert "de_de.utf8" in available
    assert "LANG=en_US.UTF-8" in host.file("/etc/default/locale").content_string


def test_time_sync_runs(host):
    chrony = host.service("chrony")
    assert chrony.is_running
    assert chrony.is_enabled
    # chronyd answers on its command socket and has the configured pool as a source.
    sources = host.check_output("chronyc -n sourcestats 2>&1 || chronyc -n tracking")
    assert sources
    assert "pool 2.debian.pool.ntp.org iburst" in host.file("/etc/chrony/chrony.conf").content_string


def test_packages(host):
    for name in ("curl", "jq", "unattended-upgrades", "chrony", "locales"):
        assert host.package(name).is_installed, name
    assert not host.package("systemd-timesyncd").is_installed


ALLOWED_ORIGINS = """
import importlib.machinery, importlib.util
import apt_pkg
loader = importlib.machinery.SourceFileLoader("unattended_upgrade", "/usr/bin/unattended-upgrade")
module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
loader.exec_module(module)
apt_pkg.init_config()
print(module.get_allowed_origins())
"""


def test_unattended_upgrades_configured(host):
    config = host.check_output("apt-config dump")
    assert 'APT::Periodic::Unattended-Upgrade "1";' in config
    assert 'APT::Periodic::Update-Package-Lists "1";' in config
    patterns = [line for line in config.splitlines() if line.startswith("Unattended-Upgrade::Origins-Pattern::")]
    # Debian's own list is replaced, not added to.
    assert len(patterns) == 4
    assert any("label=Debian-Security" in line for line in patterns)
    assert 'Unattended-Upgrade::Package-Blacklist:: "postgresql-";' in config
    assert host.service("apt-daily-upgrade.timer").is_enabled
    # unattended-upgrade's own code reads the configuration and finds the allowed origins (its dry
    # run says the same after a minute of resolving every upgrade).
    origins = host.check_output("python3 -c %s", ALLOWED_ORIGINS)
    assert "label=Debian-Security" in origins, origins


def test_journald_limits(host):
    conf = host.file("/etc/systemd/journald.conf.d/60-groundwork.conf").content_string
    assert "SystemMaxUse=200M" in conf
    assert "Storage=persistent" in conf
    assert host.service("systemd-journald").is_running


def test_sysctl_file_written(host):
    conf = host.file("/etc/sysctl.d/60-groundwork.conf").content_string
    assert "vm.swappiness=5" in conf.replace(" ", "")
    assert "net.core.somaxconn=4096" in conf.replace(" ", "")


@pytest.mark.parametrize("path", ["/etc/security/limits.d/60-groundwork.conf"])
def test_limits_not_written_in_a_container(host, path):
    # A container's hard limits belong to the runtime; the role says it skips them.
    assert not host.file(path).exists
