#!/usr/bin/env bash
# Builds Knative Eventing's ApiServerSource receive adapter
# (knative.dev/eventing/cmd/apiserver_receive_adapter, the program an ApiServerSource's
# Deployment runs) from the Go module pinned in versions.env, and caches it outside the repo,
# keyed by that version and a hash of versions.env, go/adapter's go.mod and go.sum and this
# script, so later runs and fresh clones on the same machine reuse it.
# Prints the binary's path on stdout (progress and "built in Ns" go to stderr).
#
# On failure it exits non-zero and prints the failing step as the last line of stdout (and says
# so on stderr), which adapter.ts puts into its Error.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mod_dir="$here/go/adapter"
pkg=knative.dev/eventing/cmd/apiserver_receive_adapter
step="reading versions.env"
tmp=""
on_exit() {
  local rc=$?
  [[ -n $tmp ]] && rm -f "$tmp"
  if (( rc != 0 )); then
    echo "build-adapter.sh: failed while $step (exit $rc)" >&2
    echo "$step"
  fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

KNATIVE_EVENTING="$(sed -n 's/^KNATIVE_EVENTING=\(.*\)$/\1/p' "$here/versions.env")"
[[ -n $KNATIVE_EVENTING ]] || { step="reading versions.env: KNATIVE_EVENTING is missing"; false; }

# go/adapter/go.mod must require exactly the pinned knative.dev/eventing, with no replace of it.
step="checking go/adapter/go.mod against versions.env"
got="$(awk '$1 == "knative.dev/eventing" && $2 ~ /^v/ {print $2} $1 == "require" && $2 == "knative.dev/eventing" {print $3}' "$mod_dir/go.mod")"
replaced="$(awk '($1 == "knative.dev/eventing" && $2 == "=>") || ($1 == "replace" && $2 == "knative.dev/eventing")' "$mod_dir/go.mod")"
if [[ $got != "$KNATIVE_EVENTING" || -n $replaced ]]; then
  echo "build-adapter.sh: $mod_dir/go.mod has knative.dev/eventing ${got:-(not required)}${replaced:+ (replaced)}," \
    "but versions.env pins $KNATIVE_EVENTING: make them agree (then go mod tidy)" >&2
  false
fi

step="computing the cache key"
sum_hash="$(cat "$here/versions.env" "$mod_dir/go.mod" "$mod_dir/go.sum" "$here/build-adapter.sh" | sha256sum | cut -c1-12)"
cache_root="${KMF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubevirt-machine-functions}"
out="$cache_root/bin/apiserver-receive-adapter-eventing-$KNATIVE_EVENTING-$sum_hash/apiserver_receive_adapter"
if [[ -x $out ]]; then echo "$out"; exit 0; fi

# One build at a time per cache root: parallel callers wait, then find it built.
mkdir -p "$(dirname "$out")"
if command -v flock >/dev/null; then
  step="waiting for another build-adapter.sh (lock $cache_root/bin/.adapter.lock)"
  exec 9>"$cache_root/bin/.adapter.lock"
  flock 9
  if [[ -x $out ]]; then echo "$out"; exit 0; fi
fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS=-modcacherw
start=$(date +%s)
tmp="$out.tmp.$$"
step="building $pkg@$KNATIVE_EVENTING (go/adapter)"
echo "building Knative Eventing $KNATIVE_EVENTING's ApiServerSource receive adapter (first run takes ~4 minutes, more when other builds run)…" >&2
(cd "$mod_dir" && go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$tmp" "$pkg") >&2
step="moving $tmp into place"
mv -f "$tmp" "$out"
tmp=""
echo "built in $(( $(date +%s) - start ))s into $out" >&2
echo "$out"
