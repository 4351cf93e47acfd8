#!/usr/bin/env bash
# The benchmark command: StockEdge next to PostgreSQL and Redis (the peers a merchant would pick
# instead), on this machine, in one run, driven by one load client; then the core's criterion
# benchmarks. Installs PostgreSQL and Redis from Debian when missing and runs private instances
# on loopback with temporary data directories (never the system services).
#
# Then the operator console's first paint (bench/first_paint.mjs: 1,000 SKUs, 5 channels, headless
# Chromium).
#
#   bash scripts/bench.sh            full run; writes the side-by-side table and the console's
#                                    first paint into BENCHMARKS.md
#   bash scripts/bench.sh --smoke    a handful of requests per scenario, nothing written (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
SMOKE=""
[ "${1:-}" = "--smoke" ] && SMOKE=1
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
log() { printf '\033[1m[bench]\033[0m %s\n' "$*"; }

[ -n "${STOCKEDGE_BENCH_NO_SETUP:-}" ] || bash scripts/setup.sh
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v redis-server >/dev/null; then
  log "installing PostgreSQL and Redis (Debian packages)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null
fi
[ -n "${STOCKEDGE_BENCH_NO_SETUP:-}" ] || bash scripts/build-worker.sh

if [ -n "$SMOKE" ]; then
  STOCKEDGE_SKIP_BUILD=1 node bench/side-by-side.mjs --smoke
  STOCKEDGE_SKIP_BUILD=1 node bench/first_paint.mjs --smoke
  log "smoke run passed"
  exit 0
fi
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# Replaces the section between <!-- NAME:start --> and <!-- NAME:end --> of BENCHMARKS.md with
# the file's text (appends the section when it is not there yet).
put_section() { # NAME FILE
  node -e '
    const fs = require("fs");
    const [file, name, run] = [process.argv[1], process.argv[2], fs.readFileSync(process.argv[3], "utf8")];
    const md = fs.readFileSync(file, "utf8");
    const a = `<!-- ${name}:start -->`, b = `<!-- ${name}:end -->`;
    const block = `${a}\n${run}\n${b}`;
    fs.writeFileSync(file, md.includes(a) ? md.replace(new RegExp(`${a}[\\s\\S]*${b}`), () => block) : md + "\n" + block + "\n");
  ' BENCHMARKS.md "$1" "$2"
}
STOCKEDGE_SKIP_BUILD=1 node bench/side-by-side.mjs --out "$out"
put_section side-by-side "$out"
log "side-by-side results written to BENCHMARKS.md"
STOCKEDGE_SKIP_BUILD=1 node bench/first_paint.mjs --out "$out"
put_section first-paint "$out"
log "console first paint written to BENCHMARKS.md"
