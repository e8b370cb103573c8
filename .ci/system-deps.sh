#!/usr/bin/env bash
# Debian packages the test suite needs. Idempotent: skips apt when all are present.
set -euo pipefail
need=()
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v xz >/dev/null || need+=(xz-utils)
command -v bzip2 >/dev/null || need+=(bzip2)
command -v zstd >/dev/null || need+=(zstd)
command -v genisoimage >/dev/null || need+=(genisoimage)
# Formats CDI silently mis-imports; the image preflight tests make real ones.
command -v lz4 >/dev/null || need+=(lz4)
command -v zip >/dev/null || need+=(zip)
command -v 7zz >/dev/null || need+=(7zip)
if (( ${#need[@]} )); then
  sudo_cmd=""; [[ $(id -u) == 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}"
fi
