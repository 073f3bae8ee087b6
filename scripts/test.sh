#!/usr/bin/env bash
# The whole test suite: unit tests, snapshot tests, property tests and the CLI tests that
# run the real binary on every example. Installs nothing beyond the Rust toolchain today;
# services the later suites need are started from here.
set -euo pipefail
cd "$(dirname "$0")/.."

export INSTA_UPDATE=no
cargo test --locked --all-targets "$@"
