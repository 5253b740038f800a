"""The CI definitions a team starts from: GitHub Actions and GitLab CI run the suite's stages (the
Makefile's lint, sanity, unit, scenario and e2e targets), every Molecule scenario among them, and
GitLab's jobs run here under gitlab-ci-local. (actionlint checks the workflows: tests/lint.)"""

import re

import yaml
from harness import ROOT, run, tail

STAGES = ["lint", "sanity", "unit", "scenario", "e2e"]


def scenarios():
    return sorted(path.parent.name for path in (ROOT / "molecule").glob("*/molecule.yml"))


def test_the_github_workflow_runs_every_stage_and_every_scenario():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    jobs = workflow["jobs"]
    assert sorted(jobs) == sorted(STAGES)
    for stage in ("lint", "sanity", "unit", "e2e"):
        assert f"make {stage}" in [step.get("run") for step in jobs[stage]["steps"]], stage
    assert sorted(jobs["scenario"]["strategy"]["matrix"]["scenario"]) == scenarios()


def test_gitlab_ci_local_lists_every_stage_and_scenario():
    listed = run(["gitlab-ci-local", "--list"])
    assert listed.returncode == 0, tail(listed.stdout + listed.stderr)
    names = {line.split("  ")[0].strip() for line in listed.stdout.splitlines()[1:] if line.strip()}
    assert {"lint", "sanity", "unit", "e2e"} <= names, listed.stdout
    assert sorted(re.findall(r"^scenario: \[(\w+)\]", listed.stdout, re.MULTILINE)) == scenarios()


def test_the_gitlab_sanity_job_passes_under_gitlab_ci_local():
    # The one job run here in every suite (lint and unit are the suite's own first layers; all three
    # were run so when the pipeline was written: README). It shares ansible-test's virtual
    # environments with tests/sanity, so the two run in one scope (tests/conftest.py).
    ran = run(["gitlab-ci-local", "sanity"], timeout=900)
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, tail(output)
    assert re.search(r"PASS\s+sanity", output), tail(output)
