#!/usr/bin/env bash
# Points go.mod at one Kubernetes release. k8s.io/kubernetes replaces its staging modules
# (k8s.io/api, k8s.io/client-go, ...) with local folders, which a dependent module cannot see,
# so each one is replaced here by its published v0.X.Y twin. The list comes from the release's
# own go.mod, so it stays right when Kubernetes adds or drops a staging module.
#
# Usage: sandbox/kube/update-kubernetes.sh v1.34.4
set -euo pipefail
cd "$(dirname "$0")"
export GOTOOLCHAIN=local

version="${1:?usage: $0 v1.MINOR.PATCH}"
staging_version="v0.${version#v1.}"

gomod="$(go mod download -json "k8s.io/kubernetes@${version}" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
[ -f "$gomod" ] || { echo "no go.mod downloaded for k8s.io/kubernetes@${version}" >&2; exit 1; }

# Drop the replaces of an earlier release before adding this one's.
for module in $(go mod edit -json | sed -n 's/^[[:space:]]*"Path": "\(k8s\.io\/[^"]*\)",$/\1/p' | sort -u); do
    go mod edit -dropreplace="$module" 2>/dev/null || true
done

# Lines such as `k8s.io/api => ./staging/src/k8s.io/api`; the sample-* modules are examples.
staging_modules="$(sed -n 's/^[[:space:]]*\(k8s\.io\/[^ ]*\) => \.\/staging\/src\/.*$/\1/p' "$gomod" | grep -v '/sample-')"
[ -n "$staging_modules" ] || { echo "no staging modules found in $gomod" >&2; exit 1; }

go mod edit -require="k8s.io/kubernetes@${version}"
for module in $staging_modules; do
    go mod edit -replace="${module}=${module}@${staging_version}"
done
go mod tidy
