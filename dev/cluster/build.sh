#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and etcd from the Go module proxy
# (no downloads from dl.k8s.io, which this network cannot reach) and caches them
# outside the repo, keyed by versions and the wrappers' go.sum, so later runs and
# fresh clones on the same machine reuse them. Prints the binary directory.
#
# KUBEBUILDER_ASSETS (envtest convention) wins when it holds all three binaries.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
names=(kube-apiserver kube-controller-manager etcd)

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  ok=1
  for n in "${names[@]}"; do [[ -x "$KUBEBUILDER_ASSETS/$n" ]] || ok=0; done
  if [[ $ok == 1 ]]; then echo "$KUBEBUILDER_ASSETS"; exit 0; fi
  echo "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks one of ${names[*]}; building instead" >&2
fi

kube_version="$(cd "$here/go/kube" && grep -E '^\s*k8s.io/kubernetes v' go.mod | awk '{print $2}')"
etcd_version="$(cd "$here/go/etcd" && grep -E '^\s*go.etcd.io/etcd/server/v3 v' go.mod | awk '{print $2}')"
sum_hash="$(cat "$here/go/kube/go.sum" "$here/go/etcd/go.sum" | sha256sum | cut -c1-12)"
cache_root="${KMF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubevirt-machine-functions}"
out="$cache_root/bin/k8s-$kube_version-etcd-$etcd_version-$sum_hash"

complete=1
for n in "${names[@]}"; do [[ -x "$out/$n" ]] || complete=0; done
if [[ $complete == 1 ]]; then echo "$out"; exit 0; fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS=-modcacherw
mkdir -p "$out.tmp"
minor="${kube_version#v1.}"; minor="${minor%%.*}"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
vflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  vflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  vflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

start=$(date +%s)
echo "building kube-apiserver and kube-controller-manager $kube_version (first time takes minutes)" >&2
(cd "$here/go/kube" && go build -trimpath -tags selinux,notest -ldflags "all=$vflags -s -w" \
  -o "$out.tmp/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager) >&2
echo "building etcd $etcd_version" >&2
(cd "$here/go/etcd" && go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3) >&2
rm -rf "$out"; mv "$out.tmp" "$out"
echo "built in $(( $(date +%s) - start ))s into $out" >&2
echo "$out"
