#!/usr/bin/env bash
# Installs what building and testing the browser logger needs, idempotently:
#   - the wasm32-unknown-unknown Rust target;
#   - wasm-bindgen-cli at exactly the version of the `wasm-bindgen` crate in Cargo.lock
#     (the CLI and the crate must match, or the generated glue is refused at run time);
#   - binaryen 132 (wasm-opt) from npm into a cache directory. Never Debian's binaryen:
#     its wasm-opt 108 silently breaks wasm-bindgen output (see docs/TOOLCHAIN.md);
#   - wasm-split-cli (crate wasm_split_cli_support, exact version, cargo install --locked into
#     a cache directory named after it): splits the admin UI's lazy routes into wasm chunks;
#   - wasm-snip 0.4.0 (cargo install), to cut Rust's panic machinery out of the module;
#   - esbuild's platform binary package from npm (@esbuild/linux-x64 or -arm64), to minify
#     the JS of the npm package;
#   - with --browser: Debian's chromium + chromium-driver, for wasm-bindgen-test and the bench.
# --ui-only: only what the admin UI build needs (the target, wasm-bindgen-cli, binaryen,
# wasm-split-cli).
# --no-install: install nothing; fail naming what is missing (the collector's build script
# builds the UI, and a cargo build must not download tools).
# Quiet when everything is present; prints one line for each thing it installs.
# Prints nothing on stdout except, with --print-wasm-opt / --print-esbuild / --print-wasm-snip /
# --print-wasm-split, the path of the wasm-opt / esbuild / wasm-snip / wasm-split-cli to use
# (one per line, in that order).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${TRACEWIRE_CACHE:-$HOME/.cache/tracewire}"
BINARYEN_VERSION="132.0.0"
BINARYEN_DIR="$CACHE/binaryen-$BINARYEN_VERSION"
ESBUILD_VERSION="0.28.2"
ESBUILD_DIR="$CACHE/esbuild-$ESBUILD_VERSION"
PRINT_ESBUILD=0
WANT_BROWSER=0
PRINT_WASM_OPT=0
PRINT_WASM_SNIP=0
PRINT_WASM_SPLIT=0
UI_ONLY=0
NO_INSTALL=0
WASM_SNIP_VERSION="0.4.0"
# Must understand the split markers of the wasm_split_helpers in Cargo.lock (0.2.x, through
# leptos); the CLI has no --version, so the install directory carries the version.
WASM_SPLIT_VERSION="0.2.4"
WASM_SPLIT_DIR="$CACHE/wasm-split-cli-$WASM_SPLIT_VERSION"
for arg in "$@"; do
  case "$arg" in
    --browser) WANT_BROWSER=1 ;;
    --print-wasm-opt) PRINT_WASM_OPT=1 ;;
    --print-esbuild) PRINT_ESBUILD=1 ;;
    --print-wasm-snip) PRINT_WASM_SNIP=1 ;;
    --print-wasm-split) PRINT_WASM_SPLIT=1 ;;
    --ui-only) UI_ONLY=1 ;;
    --no-install) NO_INSTALL=1 ;;
    *) echo "usage: $0 [--browser] [--ui-only] [--no-install] [--print-wasm-opt] [--print-esbuild] [--print-wasm-snip] [--print-wasm-split]" >&2; exit 2 ;;
  esac
done

say() { echo "ensure-toolchain: $*" >&2; }
# With --no-install a missing tool is an error instead of an install.
missing() {
  if [ "$NO_INSTALL" = 1 ]; then
    say "missing: $* (run scripts/ensure-toolchain.sh, or set TRACEWIRE_SKIP_UI_BUILD=1 to build without the UI)"
    exit 1
  fi
}

# 1. Rust target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  missing "Rust target wasm32-unknown-unknown"
  say "installing Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown >&2
fi

# 2. wasm-bindgen-cli matching Cargo.lock.
WB_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
if [ -z "$WB_VERSION" ]; then
  say "cannot find wasm-bindgen in Cargo.lock"; exit 1
fi
HAVE_WB="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$HAVE_WB" != "$WB_VERSION" ]; then
  missing "wasm-bindgen-cli $WB_VERSION (found: ${HAVE_WB:-none})"
  say "installing wasm-bindgen-cli $WB_VERSION (found: ${HAVE_WB:-none}; takes ~2 min)"
  # Without --locked on purpose: the CLI's lock file pins a webpki-roots that no longer resolves.
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --quiet >&2
fi

# 3. binaryen from npm (a JS build of wasm-opt; no install scripts needed).
WASM_OPT="$BINARYEN_DIR/node_modules/.bin/wasm-opt"
if [ ! -x "$WASM_OPT" ]; then
  missing "binaryen $BINARYEN_VERSION in $BINARYEN_DIR"
  say "installing binaryen@$BINARYEN_VERSION into $BINARYEN_DIR"
  mkdir -p "$BINARYEN_DIR"
  npm install --silent --no-audit --no-fund --prefix "$BINARYEN_DIR" "binaryen@$BINARYEN_VERSION" >&2
fi

# 3b. wasm-split-cli: splits the admin UI module at its lazy routes (`#[lazy_route]`).
WASM_SPLIT="$WASM_SPLIT_DIR/bin/wasm-split-cli"
if [ ! -x "$WASM_SPLIT" ]; then
  missing "wasm-split-cli $WASM_SPLIT_VERSION in $WASM_SPLIT_DIR"
  say "installing wasm-split-cli $WASM_SPLIT_VERSION into $WASM_SPLIT_DIR (takes ~2 min)"
  cargo install wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --locked \
    --features build-binary --root "$WASM_SPLIT_DIR" --quiet >&2
fi

if [ "$UI_ONLY" = 1 ]; then
  if [ "$PRINT_WASM_OPT" = 1 ]; then echo "$WASM_OPT"; fi
  if [ "$PRINT_WASM_SPLIT" = 1 ]; then echo "$WASM_SPLIT"; fi
  exit 0
fi

# 4. esbuild: npm 11 runs no install scripts, so the `esbuild` package would lack its binary;
#    the platform package ships the binary itself. (esbuild-wasm 0.28 crashes on Node 20.)
case "$(uname -m)" in
  aarch64 | arm64) ESBUILD_PKG="@esbuild/linux-arm64" ;;
  *) ESBUILD_PKG="@esbuild/linux-x64" ;;
esac
ESBUILD="$ESBUILD_DIR/node_modules/$ESBUILD_PKG/bin/esbuild"
if [ ! -x "$ESBUILD" ]; then
  say "installing $ESBUILD_PKG@$ESBUILD_VERSION into $ESBUILD_DIR"
  mkdir -p "$ESBUILD_DIR"
  npm install --silent --no-audit --no-fund --prefix "$ESBUILD_DIR" "$ESBUILD_PKG@$ESBUILD_VERSION" >&2
fi

# 4b. wasm-snip: replaces std's panic handler (and the core::fmt code only it keeps alive)
#     with `unreachable`; the module aborts on panic either way (panic = "abort").
WASM_SNIP="$(command -v wasm-snip || true)"
if [ -z "$WASM_SNIP" ] || [ "$("$WASM_SNIP" --version 2>/dev/null | awk '{print $2}')" != "$WASM_SNIP_VERSION" ]; then
  say "installing wasm-snip $WASM_SNIP_VERSION (takes ~1.5 min)"
  cargo install wasm-snip --version "$WASM_SNIP_VERSION" --locked --quiet >&2
  WASM_SNIP="$(command -v wasm-snip || echo "$HOME/.cargo/bin/wasm-snip")"
fi

# 5. Headless Chromium for browser tests and the benchmark.
if [ "$WANT_BROWSER" = 1 ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  say "installing chromium and chromium-driver via apt-get"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  mkdir -p "$CACHE"
  $SUDO apt-get update -qq > "$CACHE/apt.log" 2>&1
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver \
    >> "$CACHE/apt.log" 2>&1 || { say "apt-get failed, see $CACHE/apt.log"; exit 1; }
fi

if [ "$PRINT_WASM_OPT" = 1 ]; then
  echo "$WASM_OPT"
fi
if [ "$PRINT_ESBUILD" = 1 ]; then
  echo "$ESBUILD"
fi
if [ "$PRINT_WASM_SNIP" = 1 ]; then
  echo "$WASM_SNIP"
fi
if [ "$PRINT_WASM_SPLIT" = 1 ]; then
  echo "$WASM_SPLIT"
fi
