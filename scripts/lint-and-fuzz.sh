#!/usr/bin/env bash
# The bounded fuzzing run (scripts/fuzz.sh) and clippy on the native and the wasm build, one after
# another, each step's wall time printed after it. scripts/test.sh runs this at the lowest CPU
# priority beside the end-to-end tests (which leave a core mostly idle while they wait on the
# runtime) and reads its log when they are done; it can also be run on its own.
#
# Exits non-zero at the first step that fails. It uses fuzz/target, target/debug and
# target/wasm32-unknown-unknown/debug: none of them is used by the steps it runs beside.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

timed() {
  local name=$1; shift
  local start=$SECONDS
  printf '\n\033[1m== %s\033[0m\n' "$name"
  "$@"
  printf '%5ss  %s\n' $((SECONDS - start)) "$name" >>"${LINT_AND_FUZZ_TIMES:-/dev/null}"
}

timed "fuzzing: every parser of untrusted input, a bounded run (scripts/fuzz.sh; --long for more)" \
  bash scripts/fuzz.sh
timed "clippy (native, all targets)" \
  cargo clippy --all-targets --quiet -- -D warnings
timed "clippy (wasm32, the Workers shell)" \
  wasm_env cargo clippy --lib --target wasm32-unknown-unknown --quiet -- -D warnings
