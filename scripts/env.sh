# shellcheck shell=bash
# Sourced by every project script: the one place that says where things live.
GROUNDWORK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GROUNDWORK_ROOT
export CONTAINERS_CONF="$GROUNDWORK_ROOT/scripts/containers.conf"
export ANSIBLE_CONFIG="$GROUNDWORK_ROOT/ansible.cfg"
# .cache/tools/bin: promtool and amtool, taken from Debian's packages by setup.sh.
export PATH="$GROUNDWORK_ROOT/.venv/bin:$GROUNDWORK_ROOT/.cache/tools/bin:$PATH"
# Debian releases the lab and Molecule images are built for: codename per major version.
GROUNDWORK_IMAGE_REPO="localhost/groundwork-debian"
declare -A GROUNDWORK_DEBIAN_CODENAMES=([12]=bookworm [13]=trixie)
# ansible.cfg's fact cache path is relative (to wherever ansible runs); make it absolute here.
export ANSIBLE_CACHE_PLUGIN_CONNECTION="$GROUNDWORK_ROOT/.cache/facts"
