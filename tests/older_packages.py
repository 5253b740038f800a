"""Packages older than the Debian mirror's, so that a patch run has something to upgrade; what is
left to upgrade or still runs replaced code afterwards. The lab's patch drill and the Patroni
scenario's share them; `container` is a podman container's name.

Each package at the mirror's newest version goes back to the version just below it (a point
release's beside the security archive's update), never by removing another package (--no-remove:
a libssl3 older than what OpenSSH was built against would take SSH away), with needrestart's apt
hook held back: nothing is restarted, the running services keep the newer code until the patch run.
"""

from __future__ import annotations

import re

import yaml
from harness import ROOT, on

# The role's own list of services it never restarts (D-Bus, users' managers): those may stay on old code.
ROLE_DEFAULTS = yaml.safe_load((ROOT / "roles" / "patch" / "defaults" / "main.yml").read_text())
KEPT = re.compile("|".join(ROLE_DEFAULTS["patch_services_not_restarted"]))


def older_pins(container: str, packages: tuple[str, ...]) -> list[str]:
    """`package=version` for each package at the mirror's newest, the version just below it."""
    pins = []
    for package in packages:
        policy = on(container, "apt-cache", "policy", package)
        installed, candidate = (line.split()[1] for line in policy.splitlines()[1:3])
        if installed != candidate:
            continue  # already behind the mirror
        versions = on(container, "sh", "-c", f"apt-cache madison {package} | cut -d'|' -f2 | tr -d ' ' | sort -uV")
        older = versions.split()[: versions.split().index(installed)]
        if older:
            pins.append(f"{package}={older[-1]}")
    return pins


def install(container: str, pins: list[str]) -> None:
    on(container, "env", "DEBIAN_FRONTEND=noninteractive", "NEEDRESTART_SUSPEND=1",
       "apt-get", "install", "-y", "-q", "--no-remove", "--allow-downgrades", *pins)  # fmt: skip


def one_version_behind(container: str, packages: tuple[str, ...]) -> list[str]:
    """older_pins installed where a package has an older version; the pins."""
    pins = older_pins(container, packages)
    if pins:
        install(container, pins)
    return pins


def upgrades_pending(container: str) -> list[str]:
    """The packages apt's safe upgrade would upgrade."""
    simulated = on(container, "apt-get", "--simulate", "--quiet", "upgrade", "--with-new-pkgs")
    return [line.split()[1] for line in simulated.splitlines() if line.startswith("Inst ")]


def still_on_replaced_code(container: str) -> list[str]:
    """The services needrestart says run replaced code, but for those the role never restarts."""
    listed = on(container, "needrestart", "-b", "-r", "l").splitlines()
    services = [line.split(": ", 1)[1] for line in listed if line.startswith("NEEDRESTART-SVC: ")]
    return [service for service in services if not KEPT.match(service)]
