#!/usr/bin/env bash
# Sets up what is missing and runs every test: native unit, property and simulation tests
# (cargo test), then the end-to-end suite against the real runtime (workerd via wrangler dev,
# started and stopped by the harness) and the operator console's browser tests (headless Chromium
# against the same runtime); beside those, at the lowest CPU priority, a bounded coverage-guided
# fuzzing run of every parser of untrusted input (scripts/fuzz.sh, 3 s per target) and clippy on
# the native and the wasm build (scripts/lint-and-fuzz.sh), whose result is awaited at the end.
#
#   bash scripts/test.sh            every test (the crash runs against workerd at bounded sizes)
#   bash scripts/test.sh --crash    every test, with the crash runs at the full sizes
#                                   (CRASH_SIZE=full: 500 carts, 300 webhooks; 4-5 minutes instead
#                                   of about 2; docs/testing.md)
set -euo pipefail
cd "$(dirname "$0")/.."
crash=0
for a in "$@"; do
  case "$a" in
    --crash) crash=1 ;;
    *) echo "unknown option: $a (see the head of $0)" >&2; exit 2 ;;
  esac
done
# Each step's wall time is printed at the end (and when a step fails), so that a slow CI run
# shows where its minutes went.
timings=()
step_name="setup (scripts/setup.sh)"
step_start=$SECONDS
step_end() { timings+=("$(printf '%5ss  %s' $((SECONDS - step_start)) "$step_name")"); }
step() { step_end; step_name="$*"; step_start=$SECONDS; printf '\n\033[1m== %s\033[0m\n' "$*"; }
summary() { step_end; printf '\n\033[1m== time per step\033[0m\n'; printf '%s\n' "${timings[@]}"; printf '%5ss  total\n' "$SECONDS"; }
worker_pid=""
checks_pid=""
cleanup() {
  summary
  # A failed step leaves nothing it started in the background running behind it.
  [ -z "$worker_pid" ] || kill -- "-$worker_pid" 2>/dev/null || true
  [ -z "$checks_pid" ] || kill -- "-$checks_pid" 2>/dev/null || true
}
trap cleanup EXIT
bash scripts/setup.sh
source scripts/toolchain.sh

# The Worker's release build (wasm32, one codegen unit, LTO) starts now and runs alongside the
# native steps: its long single-threaded stretches fill the core that linking and test binaries
# leave idle. It takes cargo's locks on target/release and target/wasm32-unknown-unknown/release,
# which none of the steps before "build the Worker" use. Its output is in target/build-worker.log.
mkdir -p target
worker_log=target/build-worker.log
setsid bash scripts/build-worker.sh >"$worker_log" 2>&1 &
worker_pid=$!

step "formatting (cargo fmt --check)"
cargo fmt --check

step "native tests (cargo test)"
cargo test --all-targets

# Fuzzing and both clippies (about 6 minutes of CPU on a cold machine) run from here on at the
# lowest priority, beside the Worker's build and the end-to-end tests, which wait on the runtime
# far more than they compute: they take the CPU those leave idle, and hardly slow them. They use
# fuzz/target, target/debug and target/wasm32-unknown-unknown/debug, which nothing after this
# point uses. Their output is in target/lint-and-fuzz.log, shown when they are awaited below.
checks_log=target/lint-and-fuzz.log
checks_times=target/lint-and-fuzz.times
: >"$checks_times"
LINT_AND_FUZZ_TIMES="$checks_times" setsid nice -n 19 bash scripts/lint-and-fuzz.sh >"$checks_log" 2>&1 &
checks_pid=$!

step "build the Worker (the rest of the build started before the native tests)"
if ! wait "$worker_pid"; then
  worker_pid=""
  cat "$worker_log"
  echo "the Worker's build failed (log above: $worker_log)" >&2
  exit 1
fi
worker_pid=""
tail -n 2 "$worker_log"

# Bundles the Worker as `wrangler deploy` would and checks wrangler.toml; needs no network and
# no Cloudflare account (docs/deploy.md).
step "deployable bundle (wrangler deploy --dry-run: bundles and checks wrangler.toml, no upload)"
dry_out=$(mktemp -d)
STOCKEDGE_SKIP_BUILD=1 WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false CI=1 NO_COLOR=1 \
  npx --no-install wrangler deploy --dry-run --outdir "$dry_out"
if ! { test -s "$dry_out/shim.js" && compgen -G "$dry_out/*.wasm" >/dev/null; }; then
  echo "wrangler deploy --dry-run wrote no bundle (shim.js and the .wasm)"; ls -la "$dry_out"; exit 1
fi
rm -rf "$dry_out"

step "channel and ERP simulators (self-tests)"
node --test tests/sim/

# Two test files at a time, each with its own runtime and state: the files mostly wait on their
# runtime (a queue's batch timeout, an alarm, a retry's back-off), so two of them share the 2 cores
# of a CI machine well (docs/testing.md).
step "end-to-end tests (workerd, two files at a time)"
STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=2 tests/e2e/

step "operator console in headless Chromium (tests/browser/; screenshots in target/browser-screenshots/)"
STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=1 tests/browser/

crash_size=bounded
[ "$crash" = 1 ] && crash_size=full
step "crash runs against workerd (tests/crash/: SIGKILL mid-load, restart, check; $crash_size sizes)"
CRASH_SIZE=$crash_size STOCKEDGE_SKIP_BUILD=1 node --test --test-concurrency=1 tests/crash/

step "fuzzing and clippies (started after the native tests, at the lowest priority; times below)"
if ! wait "$checks_pid"; then
  checks_pid=""
  cat "$checks_log"
  echo "fuzzing or clippy failed (log above: $checks_log)" >&2
  exit 1
fi
checks_pid=""
sed -n '/^target  *time/,$p' "$checks_log"
sed 's/^/  beside: /' "$checks_times"

step "benchmark code (smoke: a handful of requests per system, nothing timed or written)"
STOCKEDGE_BENCH_NO_SETUP=1 bash scripts/bench.sh --smoke
