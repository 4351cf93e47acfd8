#!/usr/bin/env bash
# Installs whatever is missing to build, run and test StockEdge, then returns. Idempotent and
# quick when everything is present (it only checks versions).
#
#   npm packages      wrangler (pinned in package.json / package-lock.json), via `npm ci`, whose
#                     postinstall applies patches/ (patch-package; docs/testing.md)
#   wasm toolchain    rustup's wasm32 target if it can be had, else Debian's rustc-web + build-std
#                     (docs/toolchain.md)
#   worker-build      the version wrangler's [build] uses (cargo install)
#   wasm-bindgen-cli  the exact version of wasm-bindgen in Cargo.lock (cargo install)
#   cargo-fuzz        the fuzzing driver (cargo install --locked, pinned), for scripts/fuzz.sh; it
#                     runs the fuzz targets on rustup's nightly toolchain (docs/testing.md)
#   chromium          Debian's package, for the console's browser tests (tests/browser/; driven by
#                     playwright-core, which never downloads a browser)
set -euo pipefail
cd "$(dirname "$0")/.."
WORKER_BUILD_VERSION=0.8.7
CARGO_FUZZ_VERSION=0.13.1
log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
export PATH="$HOME/.cargo/bin:$PATH"

# --- native Rust (the machine's rustup stable) -------------------------------------------------
command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup first" >&2; exit 1; }

# --- npm packages --------------------------------------------------------------------------------
command -v npm >/dev/null || { echo "node/npm not found: install Node.js >= 20.3" >&2; exit 1; }
if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- a toolchain that builds wasm32-unknown-unknown --------------------------------------------
debian_ready() {
  [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ] \
    && { command -v wasm-ld-22 || command -v wasm-ld-14; } >/dev/null \
    && [ -x /usr/bin/cargo-clippy ] && [ -d /usr/lib/rustlib/wasm32-unknown-unknown/lib ]
}
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "wasm32 target: rustup"
elif debian_ready; then
  log "wasm32 target: Debian rustc-web + build-std"
elif timeout 30 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
  log "wasm32 target: installed with rustup"
else
  log "rustup cannot fetch the wasm32 target here; installing Debian's rustc-web (docs/toolchain.md)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    rustc-web cargo-web rust-web-src rust-web-clippy lld-22 >/dev/null
  # worker-build only checks that the target's libdir exists; build-std builds std itself.
  as_root mkdir -p /usr/lib/rustlib/wasm32-unknown-unknown/lib
fi
source scripts/toolchain.sh

# std's own dependencies for build-std, and the crate's, for the wasm target.
if [ "$STOCKEDGE_TOOLCHAIN" = debian ]; then
  wasm_env cargo fetch --target wasm32-unknown-unknown --quiet
fi

# --- worker-build and wasm-bindgen-cli ---------------------------------------------------------
install_tool() { # crate version [--locked]
  log "cargo install $1 $2 (a few minutes, once)"
  if [ "$STOCKEDGE_TOOLCHAIN" = debian ]; then
    env PATH="/usr/bin:$PATH" cargo install "$1" --version "$2" ${3:-} --quiet
  else
    cargo install "$1" --version "$2" ${3:-} --quiet
  fi
}
if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
  install_tool worker-build "$WORKER_BUILD_VERSION" --locked
fi
BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$BINDGEN_VERSION" ]; then
  # Without --locked: its lock file pins a yanked webpki-roots (docs/toolchain.md).
  install_tool wasm-bindgen-cli "$BINDGEN_VERSION"
fi
# --- cargo-fuzz and the nightly toolchain for the fuzz targets (fuzz/, scripts/fuzz.sh) ------------
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $NF}')" != "$CARGO_FUZZ_VERSION" ]; then
  install_tool cargo-fuzz "$CARGO_FUZZ_VERSION" --locked
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  log "rustup toolchain install nightly (libFuzzer's coverage instrumentation needs it)"
  rustup toolchain install nightly --profile minimal >/dev/null
fi
# --- Chromium for the browser tests (tests/browser/) ---------------------------------------------
if [ ! -x "${STOCKEDGE_CHROMIUM:-/usr/bin/chromium}" ]; then
  log "installing Debian's chromium (the console's browser tests)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# The catalogue's schema (D1, migrations/) in the default local state, so that a plain
# `npx wrangler dev` works too (scripts/dev.sh applies it again; the tests use their own state).
CI=1 node_modules/.bin/wrangler d1 migrations apply stockedge-catalog --local >/dev/null 2>&1 \
  || log "note: D1 migrations could not be applied to .wrangler/state (scripts/dev.sh retries)"

log "ready: toolchain=$STOCKEDGE_TOOLCHAIN worker-build=$(worker-build --version 2>/dev/null | awk '{print $NF}') wasm-bindgen=$BINDGEN_VERSION wrangler=$(node_modules/.bin/wrangler --version 2>/dev/null | tail -1)"
