#!/usr/bin/env bash
# Builds go/cdi-importer (CDI's importer, kubevirt.io/containerized-data-importer pkg/importer,
# as one process per import; the simulator runs it for http DataVolumes) at the CDI version
# pinned in versions.env, and caches the binary outside the repo, keyed by that version and a
# hash of versions.env, the module's go.mod, go.sum and sources and this script.
# Prints the binary's path on stdout (progress goes to stderr).
#
# On failure it exits non-zero and prints the failing step as the last line of stdout (and says
# so on stderr), which importer.ts puts into its Error.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mod_dir="$here/go/cdi-importer"
step="reading versions.env"
tmp=""
on_exit() {
  local rc=$?
  rm -f "$tmp"
  if (( rc != 0 )); then
    echo "build-importer.sh: failed while $step (exit $rc)" >&2
    echo "$step"
  fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

CDI=""
while IFS= read -r line; do
  [[ $line =~ ^CDI=(.*)$ ]] && CDI="${BASH_REMATCH[1]}"
done < "$here/versions.env"
[[ -n $CDI ]] || { step="reading versions.env: CDI is missing"; false; }

# go.mod must require exactly the pinned CDI (and its API module at the same version), no replace of them.
step="checking go/cdi-importer/go.mod against versions.env"
for m in kubevirt.io/containerized-data-importer kubevirt.io/containerized-data-importer-api; do
  got="$(awk -v m="$m" '$1 == m && $2 ~ /^v/ {print $2} $1 == "require" && $2 == m {print $3}' "$mod_dir/go.mod")"
  replaced="$(awk -v m="$m" '($1 == m && $2 == "=>") || ($1 == "replace" && $2 == m)' "$mod_dir/go.mod")"
  if [[ $got != "$CDI" || -n $replaced ]]; then
    echo "build-importer.sh: $mod_dir/go.mod has $m ${got:-(not required)}${replaced:+ (replaced)}," \
      "but versions.env pins CDI=$CDI: make them agree (then go mod tidy)" >&2
    false
  fi
done

step="computing the cache key"
sources=("$here/versions.env" "$mod_dir/go.mod" "$mod_dir/go.sum" "$here/build-importer.sh")
while IFS= read -r f; do sources+=("$f"); done < <(find "$mod_dir" -name '*.go' -o -name 'go.mod' -path '*stub*' | LC_ALL=C sort)
sum_hash="$(cat "${sources[@]}" | sha256sum | cut -c1-12)"
cache_root="${KMF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubevirt-machine-functions}"
out="$cache_root/bin/cdi-importer-$CDI-$sum_hash/cdi-importer"
if [[ -x $out ]]; then echo "$out"; exit 0; fi

# One build at a time per cache root: parallel callers wait, then find it built.
mkdir -p "$(dirname "$out")"
if command -v flock >/dev/null; then
  step="waiting for another build-importer.sh (lock $cache_root/bin/.cdi-importer.lock)"
  exec 9>"$cache_root/bin/.cdi-importer.lock"
  flock 9
  if [[ -x $out ]]; then echo "$out"; exit 0; fi
fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS=-modcacherw
step="building CDI $CDI's importer (go/cdi-importer)"
echo "building CDI $CDI's importer (first run takes ~5 minutes, more when other builds run)…" >&2
start=$(date +%s)
tmp="$out.tmp.$$"
(cd "$mod_dir" && go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$tmp" .) >&2
step="moving $tmp into place"
mv -f "$tmp" "$out"
tmp=""
echo "built in $(( $(date +%s) - start ))s into $out" >&2
echo "$out"
