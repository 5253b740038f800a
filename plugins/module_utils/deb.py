# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Debian packages dpkg has, from one dpkg-query: shared by deb_packages_info and host_info."""

from __future__ import annotations

import glob
import re

from ansible.module_utils.basic import AnsibleModule

PLAIN_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$")
# Compressed or not, per source and architecture: any one means `apt update` has run here.
PACKAGE_LISTS = "/var/lib/apt/lists/*_Packages*"


def statuses(output: str) -> dict[str, str]:
    """Package name to dpkg's status abbreviation ("ii ", "rc ", "un ") from dpkg-query's lines."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        name, _tab, abbrev = line.partition("\t")
        # A multi-arch package has a line per architecture: installed for one is installed.
        if name and found.get(name, "")[1:2] != "i":
            found[name] = abbrev
    return found


def classify(names: list[str], found: dict[str, str]) -> dict[str, list[str]]:
    installed, missing, not_purged = [], [], []
    for name in names:
        # Status-Abbrev: wanted, state, error flag; state "i" is installed, "n" not installed.
        abbrev = found.get(name.split(":")[0], "") if PLAIN_NAME.match(name) else ""
        state, error = abbrev[1:2], abbrev[2:3].strip()
        (installed if state == "i" and not error else missing).append(name)
        if state not in ("", "n"):
            not_purged.append(name)
    return {"installed": installed, "missing": missing, "not_purged": not_purged}


def package_lists() -> bool:
    """Whether apt has any package list (`apt update` has run on this host)."""
    return bool(glob.glob(PACKAGE_LISTS))


def read_packages(module: AnsibleModule, names: list[str]) -> dict:
    """installed, missing and not_purged among the names, and whether apt has package lists."""
    plain = sorted({name.split(":")[0] for name in names if PLAIN_NAME.match(name)})
    found: dict[str, str] = {}
    if plain:
        # Exit 1 when some name is unknown to dpkg: that is an answer, not a failure.
        rc, out, err = module.run_command(
            ["dpkg-query", "--show", "--showformat=${Package}\t${db:Status-Abbrev}\n", "--", *plain]
        )
        if rc not in (0, 1):
            module.fail_json(msg=f"dpkg-query failed (rc {rc}): {err.strip()}", rc=rc)
        found = statuses(out)
    return {"package_lists": package_lists(), **classify(names, found)}


# apt-get's simulation lines: "Inst NAME [INSTALLED] (CANDIDATE ORIGIN, ORIGIN [ARCH])" for an upgrade,
# without "[INSTALLED]" for a new package; "Remv NAME [INSTALLED]" for a removal.
SIMULATED = re.compile(r"^(?P<action>Inst|Remv) (?P<name>\S+)(?: \[(?P<installed>[^\]]+)\])?(?: \((?P<new>[^)]*)\))?")
KERNEL_PACKAGE = re.compile(r"^linux-image-")


def simulated_changes(output: str) -> dict[str, list[dict]]:
    """What `apt-get -s` would do, from its lines: upgrades, new packages and removals.

    An upgrade is security when one of the archives it comes from is a security suite (Debian names
    them `<codename>-security`, labelled Debian-Security)."""
    upgrades, installs, removals = [], [], []
    for line in output.splitlines():
        found = SIMULATED.match(line)
        if not found:
            continue
        name, installed = found["name"], found["installed"]
        if found["action"] == "Remv":
            removals.append({"name": name, "installed": installed})
            continue
        candidate, _space, where = (found["new"] or "").partition(" ")
        origins = [origin.strip() for origin in where.rsplit(" [", 1)[0].split(",") if origin.strip()]
        entry = {
            "name": name,
            "installed": installed,
            "candidate": candidate,
            "origins": origins,
            "security": any("-security" in origin or origin.startswith("Debian-Security") for origin in origins),
        }
        (upgrades if installed else installs).append(entry)
    return {"upgrades": upgrades, "installs": installs, "removals": removals}


def chosen_upgrades(changes: dict[str, list[dict]], scope: str, names: list[str]) -> list[str]:
    """The names to upgrade: every upgrade (scope all), the security ones, or those named that have one."""
    upgrades = changes["upgrades"]
    if scope == "security":
        return [entry["name"] for entry in upgrades if entry["security"]]
    if scope == "packages":
        return [entry["name"] for entry in upgrades if entry["name"] in names]
    return [entry["name"] for entry in upgrades]


def kernel_among(names: list[str]) -> bool:
    """Whether the work includes a kernel: a linux-image package upgraded or new."""
    return any(KERNEL_PACKAGE.match(name) for name in names)
