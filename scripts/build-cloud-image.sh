#!/usr/bin/env bash
# Build the lab's image from the base image (scripts/build-image.sh): the lab's hosts are cloud
# instances, and a Debian cloud image is the official one plus sshd, whose host keys each instance
# makes on its first boot (cloud-init there, a oneshot unit here), plus a kernel's packages, and still
# no package lists. Of the kernel only linux-base is installed (a container boots none): it is what
# tells SCAP Security Guide that the host has a kernel, so that its kernel, SSH, PAM and audit rules
# are evaluated here as on a cloud instance rather than skipped as "not applicable".
# Skipped when the image exists, was built by this script and from the base image there is now.
#   usage: scripts/build-cloud-image.sh 12|13 [--force]
set -euo pipefail
source "$(dirname "$0")/env.sh"

major=${1:?usage: build-cloud-image.sh 12|13 [--force]}
base="$GROUNDWORK_IMAGE_REPO:$major"
image="$GROUNDWORK_IMAGE_REPO:$major-cloud"
podman image exists "$base" || { echo "image $base missing: run scripts/build-image.sh $major" >&2; exit 1; }

recipe=$( (sha256sum "$0"; podman image inspect -f '{{.Id}}' "$base") | sha256sum | cut -c1-16)
if [[ ${2:-} != --force ]] && podman image exists "$image" \
  && [[ $(podman image inspect -f '{{ index .Config.Labels "groundwork.recipe" }}' "$image") == "$recipe" ]]; then
  echo "image $image present, not rebuilt"
  exit 0
fi

builder=groundwork-cloud-image-$major-$$
trap 'podman rm -f "$builder" >/dev/null 2>&1 || true' EXIT
podman run --name "$builder" -i "$base" sh -s >"/var/tmp/$builder.log" 2>&1 <<'BUILD' \
  || { tail -n 30 "/var/tmp/$builder.log" >&2; rm -f "/var/tmp/$builder.log"; exit 1; }
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends openssh-server linux-base
# Made on each instance's first boot, never shared between instances.
rm -f /etc/ssh/ssh_host_*
cat >/etc/systemd/system/ssh-host-keys.service <<'UNIT'
[Unit]
Description=Make this host's SSH host keys (what cloud-init does on a cloud instance's first boot)
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
ln -s /etc/systemd/system/ssh-host-keys.service /etc/systemd/system/multi-user.target.wants/ssh-host-keys.service
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/cache/apt/*.bin
BUILD
rm -f "/var/tmp/$builder.log"
podman commit -q --change 'CMD ["/sbin/init"]' --change "LABEL groundwork.recipe=$recipe" "$builder" "$image" >/dev/null
echo "built $image"
