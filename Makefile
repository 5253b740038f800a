# The two commands of README.md. Both set up this machine first (scripts/setup.sh is idempotent).
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help setup lab lab-down test

help:
	@echo "make lab       set up, bring the podman lab up and apply playbooks/site.yml to it"
	@echo "make test      set up and run every test (lint, unit, collection, lab, Molecule)"
	@echo "make lab-down  remove the lab's containers"

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

# Two pytest-xdist workers, each taking whole modules or whole Molecule scenarios (tests/conftest.py),
# so the lab runs next to the scenarios. Given here rather than in pytest.ini, which the scenarios'
# own testinfra runs read too.
test: setup
	@source scripts/env.sh && exec pytest -n 2
