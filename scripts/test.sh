#!/usr/bin/env bash
# The whole test suite: unit tests, snapshot tests, property tests and the CLI tests that
# run the real binary on every example, and the sandbox's tests. Those need Go (1.24 or
# newer) and kubectl; the state backend's need Node.js with npm and Python 3 with pip; the
# example workflow's need shellcheck (actionlint, built with Go, runs it on the workflow's
# scripts). The first run downloads Kubernetes' Go modules (~150 MB) and builds a control
# plane for several minutes, cached in target/aksform-sandbox/ (keep GOMODCACHE, GOCACHE and
# target/ between CI runs to skip it).
set -euo pipefail
cd "$(dirname "$0")/.."

# What the sandbox needs, installed when missing.
missing=()
for package in kubectl shellcheck; do
  command -v "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (Debian packages)" >&2
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="$PATH:/usr/local/go/bin"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "the sandbox needs Go 1.24 or newer on PATH (https://go.dev/doc/install)" >&2
  exit 1
fi

# The state backend's tests run a real Azurite (npm package, installed under target/azurite)
# and read the blob back with Microsoft's Python SDK (pip, installed under target/).
for tool in node npm python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "the Azure Blob state tests need $tool on PATH (Node.js 20 or newer with npm; Python 3 with pip)" >&2
    exit 1
  fi
done

export INSTA_UPDATE=no
cargo test --locked --workspace --all-targets "$@"
