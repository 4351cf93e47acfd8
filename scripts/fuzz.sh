#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of untrusted input (fuzz/, cargo-fuzz + libFuzzer on the
# nightly toolchain; docs/testing.md). Builds every target once, runs each for a bounded time,
# and prints a table of executions and corpus sizes. Exits 1 if any target found a crash: the
# input is saved under fuzz/artifacts/<target>/ and replays with
#   fuzz/target/x86_64-unknown-linux-gnu/release/<target> fuzz/artifacts/<target>/<file>
#
#   bash scripts/fuzz.sh                   every target, FUZZ_SECONDS each (default 3: the bounded
#                                          run of scripts/test.sh, about 2.5 minutes with a cold build)
#   bash scripts/fuzz.sh --long            every target, 300 s each (or FUZZ_SECONDS)
#   FUZZ_SECONDS=60 bash scripts/fuzz.sh webhook_shopify x12_850     chosen targets
#
# The bounded run uses libFuzzer seed 1 (FUZZ_SEED), so what it finds depends on the code, not on
# the run's luck; --long runs use a fresh random seed each time (FUZZ_SEED to pin one).
#
# What a run discovers is kept in target/fuzz-corpus/<target>/ (not in git) and used again by the
# next run; the committed seeds (fuzz/corpus/<target>/seed-*, made by fuzz/seeds/make_seeds.py
# from tests/fixtures/) are read, never written.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# cargo-fuzz's version is pinned in scripts/setup.sh (which installs it when missing).
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: run scripts/setup.sh" >&2; exit 1; }

seconds=${FUZZ_SECONDS:-3}
seed=${FUZZ_SEED:-1}
targets=()
for a in "$@"; do
  case "$a" in
    --long) seconds=${FUZZ_SECONDS:-300}; seed=${FUZZ_SEED:-0} ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) targets+=("$a") ;;
  esac
done

cd fuzz
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
[ -d corpus ] || python3 seeds/make_seeds.py

# One build of every target: release with debug assertions (integer overflow panics), no
# sanitizer (the parsers are safe Rust: a sanitizer would slow every run and find nothing more).
printf '\033[1m[fuzz]\033[0m building %d targets (cargo +nightly fuzz build)\n' "${#targets[@]}"
cargo +nightly fuzz build -O --debug-assertions --sanitizer none --codegen-units 16 >/dev/null 2>build.log \
  || { cat build.log >&2; exit 1; }
rm -f build.log
bin_dir=target/$(rustc +nightly -vV | awk '/^host:/ {print $2}')/release

failed=()
rows=()
for t in "${targets[@]}"; do
  work=../target/fuzz-corpus/$t
  mkdir -p "$work" "artifacts/$t" corpus/"$t"
  log=$(mktemp)
  status=ok
  if ! "$bin_dir/$t" "$work" "corpus/$t" -max_total_time="$seconds" -seed="$seed" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"$log" 2>&1; then
    status=CRASH
    failed+=("$t")
    grep -A2 -E "panicked at" "$log" | head -6 >&2 || true
    grep -E "^==|Test unit written to" "$log" | head -4 >&2 || true
  fi
  execs=$(awk -F: '/stat::number_of_executed_units/ {gsub(/ /, "", $NF); print $NF}' "$log" | tail -1 || true)
  rate=$(awk -F: '/stat::average_exec_per_sec/ {gsub(/ /, "", $NF); print $NF}' "$log" | tail -1 || true)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}' || true)
  files=$(find "$work" -type f | wc -l)
  bytes=$(du -sb "$work" | awk '{print $1}')
  rows+=("$(printf '%-26s %6ss %12s %9s %7s %8s %10s  %s' "$t" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$files" "$bytes" "$status")")
  rm -f "$log"
done

printf '\n%-26s %7s %12s %9s %7s %8s %10s  %s\n' target time executions execs/s cov corpus bytes result
printf '%s\n' "${rows[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  printf '\n\033[1m[fuzz]\033[0m crashes in: %s (inputs in fuzz/artifacts/)\n' "${failed[*]}" >&2
  exit 1
fi
