#!/usr/bin/env bash
# Sets up what is missing and runs every test: native unit, property and simulation tests
# (cargo test), clippy on the native and the wasm build, then the end-to-end suite against the
# real runtime (workerd via wrangler dev, started and stopped by the harness).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/toolchain.sh
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "formatting (cargo fmt --check)"
cargo fmt --check

step "native tests (cargo test)"
cargo test --all-targets

step "clippy (native, all targets)"
cargo clippy --all-targets --quiet -- -D warnings

step "clippy (wasm32, the Workers shell)"
wasm_env cargo clippy --lib --target wasm32-unknown-unknown --quiet -- -D warnings

step "build the Worker"
bash scripts/build-worker.sh

step "channel simulators (self-tests) and end-to-end tests (workerd)"
node --test tests/sim/
STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=1 tests/e2e/

step "benchmark code (smoke: a handful of requests per system, nothing timed or written)"
STOCKEDGE_BENCH_NO_SETUP=1 bash scripts/bench.sh --smoke
