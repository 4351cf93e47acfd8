# Sourced by the build, dev and test scripts: picks the toolchain that can build
# wasm32-unknown-unknown and exports what worker-build needs to run offline.
#
# 1. The ordinary path: rustup with the wasm32 target installed (as on a developer laptop).
# 2. The fallback (../shared/TOOLCHAIN.md): Debian's rustc-web + std sources, std built for
#    wasm with build-std, wasm-ld-22 as linker.
# It also points worker-build at the local wasm-bindgen CLI and esbuild so nothing is downloaded.

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  STOCKEDGE_TOOLCHAIN=rustup
else
  STOCKEDGE_TOOLCHAIN=debian
  # /usr/bin first so cargo/rustc are Debian's, not rustup's proxies.
  export PATH="/usr/bin:$PATH"
  export RUSTC_BOOTSTRAP=1
  export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
  if command -v wasm-ld-22 >/dev/null 2>&1; then
    export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22
  elif command -v wasm-ld-14 >/dev/null 2>&1; then
    export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-14
  fi
fi
export STOCKEDGE_TOOLCHAIN

if command -v wasm-bindgen >/dev/null 2>&1; then
  export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
fi
if [ -x "$repo_root/node_modules/@esbuild/linux-x64/bin/esbuild" ]; then
  export ESBUILD_BIN="$repo_root/node_modules/@esbuild/linux-x64/bin/esbuild"
fi
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
