#!/usr/bin/env bash
# Builds kubevirt-admission (go/kubevirt/admission: KubeVirt's and CDI's own admission webhooks,
# see its main.go) from the Go modules pinned in versions.env and go/kubevirt/go.mod, and caches
# the binary outside the repo, keyed by the KubeVirt and CDI versions and a hash of
# versions.env, go/kubevirt's go.mod and go.sum, the program's sources (go/kubevirt/admission/,
# recursively), the Go version and this script, so later runs and fresh clones on the same machine reuse it.
# Prints the binary's path on stdout (progress goes to stderr).
#
# On failure it exits non-zero and prints the failing step as the last line of stdout (and says
# so on stderr), which admission.ts puts into its Error.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mod_dir="$here/go/kubevirt"
pkg=./admission
step="reading versions.env"
tmp=""
on_exit() {
  local rc=$?
  rm -rf "$tmp"
  if (( rc != 0 )); then
    echo "build-admission.sh: failed while $step (exit $rc)" >&2
    echo "$step"
  fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

while IFS= read -r line; do
  [[ $line =~ ^(KUBEVIRT|CDI)=(.*)$ ]] && printf -v "${BASH_REMATCH[1]}" '%s' "${BASH_REMATCH[2]}"
done < "$here/versions.env"
[[ -n ${KUBEVIRT:-} && -n ${CDI:-} ]] || { step="reading versions.env: KUBEVIRT or CDI is missing"; false; }

# The binary reports the versions it links: go.mod must require the pinned ones (as fetch.sh checks).
step="checking go/kubevirt/go.mod against versions.env"
for pair in "kubevirt.io/kubevirt $KUBEVIRT" "kubevirt.io/containerized-data-importer $CDI"; do
  read -r m want <<<"$pair"
  got="$(awk -v m="$m" '$1 == m && $2 ~ /^v/ {print $2} $1 == "require" && $2 == m {print $3}' "$mod_dir/go.mod")"
  if [[ $got != "$want" ]]; then
    echo "build-admission.sh: $mod_dir/go.mod has $m ${got:-(not required)}, but versions.env pins $want" >&2
    false
  fi
done

step="computing the cache key"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS=-modcacherw
sum_hash="$( { go env GOVERSION; cat "$here/versions.env" "$mod_dir/go.mod" "$mod_dir/go.sum" "$here/build-admission.sh";
  cd "$mod_dir" && find "$pkg" -name '*.go' | LC_ALL=C sort | while read -r f; do echo "$f"; cat "$f"; done; } \
  | sha256sum | cut -c1-12)"
cache_root="${KMF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubevirt-machine-functions}"
out="$cache_root/admission/kubevirt-$KUBEVIRT-cdi-$CDI-$sum_hash"
bin="$out/kubevirt-admission"
if [[ -x $bin ]]; then echo "$bin"; exit 0; fi

# One build at a time per cache root: parallel callers wait, then find it built.
mkdir -p "$cache_root/admission"
if command -v flock >/dev/null; then
  step="waiting for another build-admission.sh (lock $cache_root/admission/.lock)"
  exec 9>"$cache_root/admission/.lock"
  flock 9
  if [[ -x $bin ]]; then echo "$bin"; exit 0; fi
  rm -rf "$out".tmp.* # left by an interrupted run
fi

start=$(date +%s)
tmp="$out.tmp.$$"
mkdir -p "$tmp"
step="building kubevirt-admission (KubeVirt $KUBEVIRT and CDI $CDI admission webhooks, go/kubevirt/admission)"
echo "building kubevirt-admission with KubeVirt $KUBEVIRT's and CDI $CDI's admission webhooks (first run takes ~10 minutes, more when other builds run)…" >&2
(cd "$mod_dir" && go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$tmp/kubevirt-admission" "$pkg") >&2

step="moving $tmp into place"
mv -T "$tmp" "$out" 2>/dev/null || [[ -x $bin ]] # another run may have won
echo "built in $(( $(date +%s) - start ))s into $out" >&2
echo "$bin"
