# The two commands of README.md, and the stages of the second for CI systems that run them as jobs.
# Every target sets this machine up first (scripts/setup.sh is idempotent).
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help setup lab lab-down test lint sanity unit scenario e2e ee

# Each stage is a slice of the suite; `make test` runs all of them in one pytest session (lint,
# sanity and unit first: pytest.ini's testpaths), so that its last line counts every test.
PYTEST := source scripts/env.sh && exec pytest
# The stages without hosts need no Debian images.
SETUP_NO_IMAGES := GROUNDWORK_SETUP_IMAGES=none scripts/setup.sh

help:
	@echo "make lab                 set up, bring the podman lab up and apply playbooks/site.yml to it"
	@echo "make test                set up and run every test (the stages below, in one pytest run)"
	@echo "make lab-down            remove the lab's containers"
	@echo "make ee                  build the execution environment (localhost/groundwork-ee:latest)"
	@echo "stages, as CI jobs run them:"
	@echo "make lint                ansible-lint, yamllint, ruff, mypy, changelog fragments"
	@echo "make sanity              ansible-test sanity on the built collection"
	@echo "make unit                unit tests, the collection's build, the runner wrapper"
	@echo "make scenario S=NAME     one Molecule scenario (molecule/NAME) with its drills"
	@echo "make e2e                 the lab end to end, the AWS inventory against moto"

setup:
	@scripts/setup.sh

# Only the lab's base image (Debian 12 unless GROUNDWORK_LAB_DEBIAN says otherwise); make test builds the rest.
lab:
	@GROUNDWORK_SETUP_IMAGES=$${GROUNDWORK_LAB_DEBIAN:-12} scripts/setup.sh
	@scripts/lab up
	@set -o pipefail; source scripts/env.sh && ansible-playbook -i inventories/lab groundwork.infra.site | tee .cache/site.log
	@printf '\n== lab\n'; scripts/lab status
	@printf '\n== site.yml\n'; sed -n '/^PLAY RECAP/,/^$$/p' .cache/site.log

lab-down:
	@scripts/lab down

# The execution environment AWX/AAP runs (execution-environment.yml), from the lab's Debian 12 image.
ee:
	@GROUNDWORK_SETUP_IMAGES=12 scripts/setup.sh
	@source scripts/env.sh && scripts/build-ee

# Two pytest-xdist workers, each taking whole modules or whole Molecule scenarios (tests/conftest.py),
# so the lab runs next to the scenarios. Given here rather than in pytest.ini, which the scenarios'
# own testinfra runs read too.
test: setup
	@$(PYTEST) -n 2

lint:
	@$(SETUP_NO_IMAGES)
	@$(PYTEST) tests/lint

sanity:
	@$(SETUP_NO_IMAGES)
	@$(PYTEST) tests/sanity

unit:
	@$(SETUP_NO_IMAGES)
	@$(PYTEST) tests/unit tests/collection runner/tests

scenario:
	@[[ -n "$(S)" && -d "molecule/$(S)" ]] || { echo "make scenario S=NAME, one of: $$(cd molecule && ls -d */ | tr -d / | tr "\n" " ")" >&2; exit 2; }
	@scripts/setup.sh
	@$(PYTEST) tests/molecule -k "$(S)"

e2e: setup
	@$(PYTEST) -n 2 tests/integration
