# Sourced by the build, dev and test scripts. Picks the toolchain that can build
# wasm32-unknown-unknown and defines `wasm_env CMD...`, which runs CMD with what that toolchain
# and worker-build need to work offline. Native builds (cargo test) are left untouched.
#
# 1. The ordinary path: rustup with the wasm32 target installed (as on a developer laptop).
# 2. The fallback (docs/toolchain.md): Debian's rustc-web with std's sources, std built for
#    wasm by build-std, wasm-ld as linker, and /usr/bin ahead of rustup's proxies.
# Either way worker-build is pointed at the local wasm-bindgen CLI and esbuild, so it downloads
# nothing.

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) export PATH="$HOME/.cargo/bin:$PATH" ;; esac
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false

if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  STOCKEDGE_TOOLCHAIN=rustup
else
  STOCKEDGE_TOOLCHAIN=debian
fi
export STOCKEDGE_TOOLCHAIN

wasm_env() {
  local linker=""
  if [ "$STOCKEDGE_TOOLCHAIN" = debian ]; then
    linker="$(command -v wasm-ld-22 || command -v wasm-ld-14 || true)"
  fi
  local esbuild="$repo_root/node_modules/@esbuild/linux-x64/bin/esbuild"
  if [ "$STOCKEDGE_TOOLCHAIN" = debian ]; then
    env PATH="/usr/bin:$PATH" \
      RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
      ${linker:+CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$linker"} \
      WASM_BINDGEN_BIN="$(command -v wasm-bindgen)" \
      ${esbuild:+ESBUILD_BIN="$esbuild"} \
      "$@"
  else
    env WASM_BINDGEN_BIN="$(command -v wasm-bindgen)" ESBUILD_BIN="$esbuild" "$@"
  fi
}
