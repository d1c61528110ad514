#!/usr/bin/env bash
# Builds the admin UI (admin-ui/, Leptos client-side app) into a directory the collector serves
# or embeds: index.html plus assets/ (the wasm module, wasm-bindgen's JS loader, boot.js, the
# stylesheet, the icon), each with a gzip -9 copy beside it (<file>.gz) for clients that accept
# it. Steps: cargo build for wasm32 in the size profile (Leptos with --cfg erase_components),
# wasm-bindgen --target web, wasm-opt --merge-similar-functions -Oz
# (binaryen 132 from npm, never Debian's 108, which breaks wasm-bindgen output), then sizes.
#
# usage: scripts/build-ui.sh [--no-install] [OUT_DIR]
#   OUT_DIR defaults to ${CARGO_TARGET_DIR:-target}/admin-ui/dist, where the collector's build
#   script looks for it. The wasm build uses its own cargo target dir beside it
#   (${CARGO_TARGET_DIR:-target}/admin-ui), so it never waits on the lock of a running build.
#   --no-install: fail instead of installing a missing tool (the collector's build script
#   uses it: a cargo build must not download anything).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOLS=(--ui-only)
if [ "${1:-}" = "--no-install" ]; then
  TOOLS+=(--no-install)
  shift
fi
TARGET_BASE="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="${1:-$TARGET_BASE/admin-ui/dist}"
UI_TARGET="$TARGET_BASE/admin-ui"
mkdir -p "$UI_TARGET"
# One build at a time per target dir (a cargo build's build script and a manual run may meet).
exec 9> "$UI_TARGET/.build-ui.lock"
flock 9
WASM_OPT="$("$ROOT/scripts/ensure-toolchain.sh" "${TOOLS[@]}" --print-wasm-opt)"
NAME=tracewire_admin

# strip=false keeps the target_features section wasm-bindgen reads; wasm-opt drops names anyway.
# --cfg erase_components: Leptos then returns every #[component]'s view as a type-erased AnyView
# and erases element attributes and children at each step, so the tachys build/rebuild code is
# compiled once per shape instead of once per nested view type: -7.6 % gzip (423 -> 391 KB, see
# docs/BENCHMARKS.md) for the same markup. Set through the target's rustflags so the Leptos
# crates and the UI agree; a RUSTFLAGS in the environment would replace it (a bigger module).
CARGO_TARGET_DIR="$UI_TARGET" CARGO_PROFILE_WASM_RELEASE_STRIP=false \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg erase_components" \
  cargo build --quiet --profile wasm-release --target wasm32-unknown-unknown -p tracewire-admin

STAGE="$OUT.tmp"
rm -rf "$STAGE"
mkdir -p "$STAGE/assets"
wasm-bindgen --target web --no-typescript --out-dir "$STAGE/assets" \
  "$UI_TARGET/wasm32-unknown-unknown/wasm-release/$NAME.wasm"
# --merge-similar-functions before -Oz: folds the many near-identical monomorphised functions
# (one per view or closure type) into one with the differing constants as parameters: -2.3 %
# raw, -1.3 % gzip on top of -Oz (docs/BENCHMARKS.md); wasm-opt takes no longer with it.
"$WASM_OPT" --merge-similar-functions -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-mutable-globals --enable-multivalue \
  --strip-producers --strip-debug "$STAGE/assets/${NAME}_bg.wasm" -o "$STAGE/assets/${NAME}_bg.opt.wasm"
mv "$STAGE/assets/${NAME}_bg.opt.wasm" "$STAGE/assets/${NAME}_bg.wasm"
cp admin-ui/index.html "$STAGE/"
cp admin-ui/boot.js admin-ui/style.css admin-ui/favicon.svg "$STAGE/assets/"
# -n: no name or time in the header, so equal input gives equal bytes (and ETags).
find "$STAGE" -type f ! -name '*.gz' -exec gzip -9 -n -k -f {} \;
date -u +%FT%TZ > "$STAGE/.stamp"
rm -rf "$OUT"
mv "$STAGE" "$OUT"

gz() { wc -c < "$1.gz"; }
WASM="$OUT/assets/${NAME}_bg.wasm"
echo "admin UI -> $OUT"
echo "  wasm: $(wc -c < "$WASM") B raw, $(gz "$WASM") B gzip -9 -n"
echo "  js:   $(cat "$OUT/assets/$NAME.js" "$OUT/assets/boot.js" | wc -c) B raw, $(( $(gz "$OUT/assets/$NAME.js") + $(gz "$OUT/assets/boot.js") )) B gzip"
echo "  css:  $(wc -c < "$OUT/assets/style.css") B raw, $(gz "$OUT/assets/style.css") B gzip"
