#!/usr/bin/env bash
# Everything this project needs on a fresh Debian 12 machine, idempotent and re-runnable as root:
# apt packages, the .venv with pinned tools, the collections we depend on (vendored from
# the `ansible` PyPI package because Galaxy is unreachable), and the Debian base images.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$GROUNDWORK_ROOT"

# The `ansible` release whose bundled collections we vendor, and the ones we take from it.
ANSIBLE_BUNDLE_VERSION=12.3.0
VENDORED_COLLECTIONS=(ansible.posix community.general community.postgresql community.crypto
  containers.podman amazon.aws)
# netavark, aardvark-dns and iptables named explicitly: otherwise apt picks the CNI stack,
# containers cannot resolve each other, or no container starts on a bridge network.
APT_PACKAGES=(podman runc netavark aardvark-dns iptables debootstrap openssh-client
  python3-venv git make shellcheck locales rsync)
# The monitoring test opens Prometheus's console page in a real browser, trusting the lab's CA
# through an NSS database (certutil); without recommends, Chromium needs no desktop around it.
APT_PACKAGES_BARE=(chromium libnss3-tools)

SETUP_STARTED=$SECONDS
step() { printf '\n== %s (at %d s)\n' "$*" $((SECONDS - SETUP_STARTED)); }

missing_packages() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || echo "$pkg"
  done
}

install_apt_packages() {
  local missing bare
  mapfile -t missing < <(missing_packages "${APT_PACKAGES[@]}")
  mapfile -t bare < <(missing_packages "${APT_PACKAGES_BARE[@]}")
  if ((${#missing[@]} + ${#bare[@]} == 0)); then
    echo "apt packages present"
    return
  fi
  apt-get update -qq
  if ((${#missing[@]})); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if ((${#bare[@]})); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${bare[@]}" >/dev/null
  fi
  echo "installed: ${missing[*]} ${bare[*]}"
}

install_venv() {
  local stamp=.venv/.groundwork-requirements
  local want
  want=$(cat requirements-dev.txt constraints-dev.txt runner/pyproject.toml | sha256sum)
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    echo ".venv up to date"
    return
  fi
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements-dev.txt -c constraints-dev.txt
  # The ansible-runner wrapper (runner/), editable so that its tests run the working tree.
  .venv/bin/python -m pip install -q -e runner -c constraints-dev.txt
  echo "$want" >"$stamp"
  echo ".venv installed (ansible-core $(.venv/bin/python -c "import ansible.release as r; print(r.__version__)"))"
}

vendor_collections() {
  local target=.collections/ansible_collections
  local stamp=.collections/.groundwork-bundle
  local want="$ANSIBLE_BUNDLE_VERSION ${VENDORED_COLLECTIONS[*]}"
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    local wheels=.cache/wheels
    mkdir -p "$wheels"
    .venv/bin/python -m pip download -q --no-deps -d "$wheels" "ansible==$ANSIBLE_BUNDLE_VERSION"
    rm -rf .collections
    mkdir -p "$target"
    .venv/bin/python scripts/extract_collections.py "$wheels/ansible-$ANSIBLE_BUNDLE_VERSION-py3-none-any.whl" \
      "$target" "${VENDORED_COLLECTIONS[@]}"
    echo "$want" >"$stamp"
  else
    echo "collections from ansible $ANSIBLE_BUNDLE_VERSION present"
  fi
  # This repository is the collection groundwork.infra: link it in rather than copy it,
  # so that playbooks always run the working tree.
  mkdir -p "$target/groundwork"
  ln -sfn "$GROUNDWORK_ROOT" "$target/groundwork/infra"
}

# The S3 backup scenario runs moto server inside a Debian container, which has no PyPI: its wheels
# are fetched here, for Debian 12's Python (3.11) and Debian 13's (3.13). Compiled modules carry
# their Python version in their file names, so both sets unpack side by side into one directory.
fetch_moto_wheels() {
  local wheels=.cache/wheels/moto-s3 stamp=.cache/wheels/moto-s3/.groundwork-moto
  local want python
  want="$(grep -E '^moto==' constraints-dev.txt) for 3.11 3.13"
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    echo "moto wheels for the S3 scenario present"
    return
  fi
  rm -rf "$wheels" && mkdir -p "$wheels"
  for python in 3.11 3.13; do
    .venv/bin/python -m pip download -q -d "$wheels" --only-binary=:all: --python-version "$python" \
      --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --platform any \
      "moto[s3]" flask flask-cors -c constraints-dev.txt
  done
  echo "$want" >"$stamp"
}

# promtool and amtool, which check the monitoring role's rules (promtool test rules) and configs on
# this machine, from the same Debian packages the role installs on monitoring hosts: only the two
# binaries are taken out of them, no daemon is installed here.
install_prometheus_tools() {
  local tools=.cache/tools/bin stamp=.cache/tools/.groundwork-prometheus want
  want=$(apt-cache policy prometheus prometheus-alertmanager | awk '/Candidate/ {print $2}' | tr '\n' ' ')
  if [[ $want != *[0-9]*' '*[0-9]* ]]; then  # no package lists on this machine yet
    apt-get update -qq
    want=$(apt-cache policy prometheus prometheus-alertmanager | awk '/Candidate/ {print $2}' | tr '\n' ' ')
  fi
  if [[ -f $stamp && $(cat "$stamp") == "$want" && -x $tools/promtool && -x $tools/amtool ]]; then
    echo "promtool and amtool present"
    return
  fi
  local debs
  debs=$(mktemp -d)
  # As root: apt's _apt sandbox user cannot write into a directory of root's own.
  (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root prometheus prometheus-alertmanager >/dev/null)
  mkdir -p "$tools"
  dpkg-deb --fsys-tarfile "$debs"/prometheus_*.deb | tar -x -O ./usr/bin/promtool >"$tools/promtool"
  dpkg-deb --fsys-tarfile "$debs"/prometheus-alertmanager_*.deb | tar -x -O ./usr/bin/amtool >"$tools/amtool"
  chmod 0755 "$tools/promtool" "$tools/amtool"
  rm -rf "$debs"
  echo "$want" >"$stamp"
  echo "promtool and amtool from Debian's packages ($want)"
}

# The base images need only apt's packages: they are built while the venv installs (debootstrap
# waits on the mirror and dpkg, pip on PyPI), each with its output in a log shown if it fails.
# GROUNDWORK_SETUP_IMAGES lists the Debian majors to build (default: all; `none` for the stages
# without hosts: lint, sanity, unit): `make lab` needs only the lab's: a second build beside it
# cost a new machine's first lab 40 s (set-up 124 s, now 85 s).
start_image_builds() {
  local major
  mkdir -p .cache/setup
  if [[ ${GROUNDWORK_SETUP_IMAGES:-} == none ]]; then
    echo "none (GROUNDWORK_SETUP_IMAGES=none: a stage without hosts)"
    return
  fi
  for major in ${GROUNDWORK_SETUP_IMAGES:-${!GROUNDWORK_DEBIAN_CODENAMES[@]}}; do
    if [[ $major == "${GROUNDWORK_LAB_DEBIAN:-12}" ]]; then
      # The lab's hosts are cloud instances: their image is made from this base image.
      { scripts/build-image.sh "$major" && scripts/build-cloud-image.sh "$major"; } >".cache/setup/image-$major.log" 2>&1 &
    else
      scripts/build-image.sh "$major" >".cache/setup/image-$major.log" 2>&1 &
    fi
    IMAGE_BUILDS[$major]=$!
  done
}

wait_for_image_builds() {
  local major failed=0
  for major in "${!IMAGE_BUILDS[@]}"; do
    if wait "${IMAGE_BUILDS[$major]}"; then
      grep -E "^(built|image) " ".cache/setup/image-$major.log"
    else
      echo "building the Debian $major image failed:" >&2
      tail -n 30 ".cache/setup/image-$major.log" >&2
      failed=1
    fi
  done
  return "$failed"
}

# ansible-test sanity (tests/sanity): its shellcheck test needs shellcheck, its tests expect the
# en_US.UTF-8 locale, and it bootstraps pip into each test's virtual environment with a script it
# downloads from ci-files.testing.ansible.com, unreachable here: tests/sanity/get_pip.py does the
# same from pip's wheel on PyPI, under the name and beside the wheel ansible-test looks for.
prepare_ansible_test() {
  if ! locale -a 2>/dev/null | grep -qix 'en_US.utf8'; then
    sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' /etc/locale.gen
    locale-gen >/dev/null
    echo "locale en_US.UTF-8 generated"
  fi
  local version cache=$HOME/.ansible/test/cache
  version=$(.venv/bin/python -c 'import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="3.11"))["pip"])')
  local script=$cache/get_pip_${version//./_}.py wheel=$cache/pip-$version-py3-none-any.whl
  if [[ -f $wheel ]] && cmp -s tests/sanity/get_pip.py "$script"; then
    echo "pip $version bootstrap for ansible-test present"
    return
  fi
  mkdir -p "$cache"
  .venv/bin/python -m pip download -q --no-deps --only-binary=:all: -d "$cache" "pip==$version"
  cp tests/sanity/get_pip.py "$script"
  echo "pip $version bootstrap for ansible-test installed"
}

# gitlab-ci-local runs .gitlab-ci.yml's jobs on this machine (tests/ci). From npm; 4.65 is the newest
# that runs on Node.js 20 (this image's) and 18 (Debian 12's, installed when there is none).
GITLAB_CI_LOCAL_VERSION=4.65.1
install_gitlab_ci_local() {
  local bin=.cache/tools/bin/gitlab-ci-local
  if [[ -x $bin ]] && [[ $($bin --version 2>/dev/null) == "$GITLAB_CI_LOCAL_VERSION" ]]; then
    echo "gitlab-ci-local $GITLAB_CI_LOCAL_VERSION present"
    return
  fi
  if ! command -v npm >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
  npm install --prefix .cache/npm --no-audit --no-fund --loglevel=error "gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION" >/dev/null
  mkdir -p .cache/tools/bin
  ln -sfn ../../npm/node_modules/.bin/gitlab-ci-local "$bin"
  echo "gitlab-ci-local $($bin --version) installed"
}

declare -A IMAGE_BUILDS=()
step "apt packages"; install_apt_packages
step "base images (building in the background)"; start_image_builds
step "python venv"; install_venv
step "collections"; vendor_collections
step "moto wheels"; fetch_moto_wheels
step "promtool and amtool"; install_prometheus_tools
step "ansible-test"; prepare_ansible_test
step "gitlab-ci-local"; install_gitlab_ci_local
step "base images"; wait_for_image_builds
if [[ ${GROUNDWORK_SETUP_IMAGES:-} != none ]]; then  # a stage without hosts leaves the networks alone
  step "what killed runs left of podman networks"; scripts/podman-network-gc
fi
step "set-up done"
