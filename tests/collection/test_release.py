"""The release flow (scripts/release, scripts/build-collection): a dry run makes the changelog from the
fragments, a commit and tag, and a tarball; two builds of one commit are the same bytes."""

import re
import shutil
import time
from pathlib import Path

import yaml
from harness import ROOT, run, tail


def next_version() -> str:
    """galaxy.yml's version while it is unreleased, else the patch release after it."""
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    released = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text())["releases"] or {}
    if version not in released:
        return version
    major, minor, patch = map(int, version.split("."))
    return f"{major}.{minor}.{patch + 1}"


def test_a_release_dry_run_makes_the_changelog_commit_and_tarball():
    version = next_version()
    fragments = sorted((ROOT / "changelogs" / "fragments").glob("*.yml"))
    done = run(["scripts/release", "--dry-run", version])
    output = done.stdout + done.stderr
    work = re.search(r"dry run in (\S+)", done.stdout)
    try:
        assert done.returncode == 0, tail(output)
        assert f"released {version}: commit" in done.stdout
        clone = Path(work[1])
        changelog = (clone / "CHANGELOG.rst").read_text()
        assert f"v{version}\n" in changelog
        # Every fragment's first entry is in it, and the fragments are gone from the release commit.
        for fragment in fragments:
            entries = [e for key, e in yaml.safe_load(fragment.read_text()).items() if key != "release_summary"]
            first = entries[0][0].split(" - ", 1)[-1][:40] if entries else None
            assert first is None or " ".join(first.split()) in " ".join(changelog.split()), fragment.name
        assert not list((clone / "changelogs" / "fragments").glob("*.yml"))
        assert f"version: {version}" in (clone / "galaxy.yml").read_text()
        assert run(["git", "tag", "--points-at", "HEAD"], cwd=clone).stdout.split() == [f"v{version}"]
        assert (clone / "dist" / f"groundwork-infra-{version}.tar.gz").is_file()
    finally:
        if work:
            shutil.rmtree(Path(work[1]).parent, ignore_errors=True)
    # The dry run left this checkout as it was.
    assert sorted((ROOT / "changelogs" / "fragments").glob("*.yml")) == fragments


def test_two_builds_of_one_commit_are_the_same_bytes(tmp_path):
    first = run(["scripts/build-collection", "--output-path", str(tmp_path / "first")])
    time.sleep(1.1)  # ansible-galaxy alone stamps the build's second: a plain build would now differ
    second = run(["scripts/build-collection", "--output-path", str(tmp_path / "second")])
    assert first.returncode == 0, tail(first.stdout + first.stderr)
    assert second.returncode == 0, tail(second.stdout + second.stderr)
    assert first.stdout.split()[1] == second.stdout.split()[1]
