#!/usr/bin/env bash
# Install the host packages pvmlab needs. Debian/Ubuntu: apt-get (as root or with sudo). macOS: Homebrew.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ "$(uname -s)" == Darwin ]]; then
  exec brew install qemu xorriso socket_vmnet
fi
SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
mapfile -t pkgs < <(grep -v '^\s*#' "$here/host-packages.txt" | grep -v '^\s*$')
# The aarch64 test guests are built from Debian's arm64 packages.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then $SUDO dpkg --add-architecture arm64; fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${pkgs[@]}"
