#!/usr/bin/env bash
# Builds the Worker (Rust → wasm32 → build/worker/shim.mjs) with worker-build.
# wrangler runs this as its [build] command. With STOCKEDGE_SKIP_BUILD=1 and a build present,
# it does nothing (the test harness builds once, then starts workerd many times).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${STOCKEDGE_SKIP_BUILD:-}" = 1 ] && [ -f build/worker/shim.mjs ]; then
  exit 0
fi
source scripts/toolchain.sh
wasm_env worker-build --release
