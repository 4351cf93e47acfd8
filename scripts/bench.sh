#!/usr/bin/env bash
# The benchmark command: StockEdge next to PostgreSQL and Redis (the peers a merchant would pick
# instead), on this machine, in one run, driven by one load client; then the core's criterion
# benchmarks. Installs PostgreSQL and Redis from Debian when missing and runs private instances
# on loopback with temporary data directories (never the system services).
#
#   bash scripts/bench.sh            full run; writes the side-by-side table into BENCHMARKS.md
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
  log "smoke run passed"
  exit 0
fi
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
STOCKEDGE_SKIP_BUILD=1 node bench/side-by-side.mjs --out "$out"
# Replace the side-by-side section of BENCHMARKS.md with this run.
node -e '
  const fs = require("fs");
  const [file, run] = [process.argv[1], fs.readFileSync(process.argv[2], "utf8")];
  const md = fs.readFileSync(file, "utf8");
  const a = "<!-- side-by-side:start -->", b = "<!-- side-by-side:end -->";
  const block = `${a}\n${run}\n${b}`;
  fs.writeFileSync(file, md.includes(a) ? md.replace(new RegExp(`${a}[\\s\\S]*${b}`), block) : md + "\n" + block + "\n");
' BENCHMARKS.md "$out"
log "side-by-side results written to BENCHMARKS.md"
