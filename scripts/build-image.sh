#!/usr/bin/env bash
# Build a systemd-ready Debian base image with debootstrap and `podman import`.
# No registry is reachable, so images are made from the Debian mirror this machine's
# apt already uses. Skipped when the image exists and was built by this very script (podman
# storage outlives a CI run; a changed recipe is rebuilt).
#   usage: scripts/build-image.sh 12|13 [--force]
set -euo pipefail
source "$(dirname "$0")/env.sh"

major=${1:?usage: build-image.sh 12|13 [--force]}
codename=${GROUNDWORK_DEBIAN_CODENAMES[$major]:?unsupported Debian major version: $major}
image="$GROUNDWORK_IMAGE_REPO:$major"

recipe=$(sha256sum "$0" | cut -c1-16)
if [[ ${2:-} != --force ]] && podman image exists "$image" \
  && [[ $(podman image inspect -f '{{ index .Config.Labels "groundwork.recipe" }}' "$image") == "$recipe" ]]; then
  echo "image $image present, not rebuilt"
  exit 0
fi

# The mirror is read from this machine's apt sources (deb822 or one-line format)
# so that no mirror host is written into the project; GROUNDWORK_DEBIAN_MIRROR overrides.
apt_uris() {
  { grep -rhE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } \
    | grep -oE "https?://[^ ]+/$1/?( |\$)" | head -n 1 | tr -d ' ' | sed 's#/$##' || true
}
mirror=${GROUNDWORK_DEBIAN_MIRROR:-$(apt_uris debian)}
security=${GROUNDWORK_DEBIAN_SECURITY_MIRROR:-$(apt_uris debian-security)}
[[ -n $mirror ]] || { echo "no Debian mirror found in /etc/apt sources; set GROUNDWORK_DEBIAN_MIRROR" >&2; exit 1; }
security=${security:-${mirror}-security}

# What every host of ours has before Ansible touches it: systemd as PID 1, python3 for
# modules, python3-apt for package_facts and apt check mode, sudo for become.
packages=python3,python3-apt,systemd,systemd-sysv,dbus,sudo,iproute2,ca-certificates,gnupg

rootfs=$(mktemp -d "/var/tmp/groundwork-rootfs-$major.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT
echo "debootstrap $codename from $mirror into $rootfs"
debootstrap --variant=minbase --include="$packages" "$codename" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
  || { tail -n 30 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"

cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $codename main
deb $mirror $codename-updates main
deb $security $codename-security main
SOURCES
# A container has no console to log in on.
for unit in getty@tty1.service console-getty.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
echo "groundwork" >"$rootfs/etc/hostname"
# Two of the settings Debian's official container images are built with (debuerreotype's
# minimizing config): dpkg skips fsync while unpacking (a third off every package install here)
# and apt fetches no translations. Not friendlier than the official image; its docker-clean and
# gzip-indexes are left out, they cost apt a cache rebuild on every run and change nothing a
# role sees.
printf 'force-unsafe-io\n' >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
printf 'Acquire::Languages "none";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
# As the official images and many cloud images ship: no package lists, and their directory as
# fresh as the build (the roles must update lists that are missing, whatever the mtime says).
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb

tar -C "$rootfs" -c . | podman import \
  --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' \
  --change "LABEL groundwork.recipe=$recipe" - "$image" >/dev/null
echo "built $image"
