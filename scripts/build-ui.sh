#!/usr/bin/env bash
# Builds the admin UI (admin-ui/, Leptos client-side app) into a directory the collector serves
# or embeds: index.html plus assets/ (the main wasm module, wasm-bindgen's JS loader, the chunk
# loader __wasm_split.js, boot.js, the stylesheet, the icon, and in assets/<build id>/ the wasm
# chunks of the lazy routes), each with a gzip -9 copy beside it (<file>.gz) for clients that
# accept it.
# Steps: cargo build for wasm32 in the size profile (Leptos with --cfg erase_components; the
# final link keeps its relocations, --emit-relocs, which the split step needs), wasm-split-cli
# (moves the code only lazy routes reach into chunks: one per route, plus shared chunks),
# wasm-bindgen --target web on the main module, wasm-opt --merge-similar-functions -Oz on the
# main module and every chunk (binaryen 132 from npm, never Debian's 108, which breaks
# wasm-bindgen output), then sizes.
# Fails when the main module (what a browser downloads before the first page shows) is over
# UI_BUDGET_GZIP bytes gzip -9 (default 400,000, issue 14); the build is then left in
# OUT_DIR.tmp and OUT_DIR keeps the previous one.
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
TOOLCHAIN="$("$ROOT/scripts/ensure-toolchain.sh" "${TOOLS[@]}" --print-wasm-opt --print-wasm-split)"
WASM_OPT="$(sed -n 1p <<< "$TOOLCHAIN")"
WASM_SPLIT="$(sed -n 2p <<< "$TOOLCHAIN")"
NAME=tracewire_admin
BUDGET="${UI_BUDGET_GZIP:-400000}"

# strip=false keeps the target_features section wasm-bindgen reads; wasm-opt drops names anyway.
# --cfg erase_components: Leptos then returns every #[component]'s view as a type-erased AnyView
# and erases element attributes and children at each step, so the tachys build/rebuild code is
# compiled once per shape instead of once per nested view type: -7.6 % gzip (423 -> 391 KB, see
# docs/BENCHMARKS.md) for the same markup. Set through the target's rustflags so the Leptos
# crates and the UI agree; a RUSTFLAGS in the environment would replace it (a bigger module).
# `cargo rustc … -- -C link-arg=--emit-relocs` passes the link argument to the UI crate only, so
# the dependencies' build stays the same as without splitting.
CARGO_TARGET_DIR="$UI_TARGET" CARGO_PROFILE_WASM_RELEASE_STRIP=false \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg erase_components" \
  cargo rustc --quiet --profile wasm-release --target wasm32-unknown-unknown -p tracewire-admin \
  --lib -- -C link-arg=--emit-relocs

STAGE="$OUT.tmp"
SPLIT="$UI_TARGET/split"
rm -rf "$STAGE" "$SPLIT"
mkdir -p "$STAGE/assets" "$SPLIT"
# Writes the main module ($NAME.wasm, still to go through wasm-bindgen), one chunk per lazy
# route and per group of code shared by several of them (*.wasm), and __wasm_split.js, which
# the main module imports: it fetches a chunk (relative to its own URL, so beside it in
# assets/) and instantiates it with the main module's memory, table and functions.
"$WASM_SPLIT" --target web --out-name "$NAME" \
  "$UI_TARGET/wasm32-unknown-unknown/wasm-release/$NAME.wasm" "$SPLIT"
# --keep-lld-exports: the chunks import the main module's functions and globals through them.
wasm-bindgen --target web --no-typescript --keep-lld-exports --out-dir "$STAGE/assets" \
  "$SPLIT/$NAME.wasm"
rm "$SPLIT/$NAME.wasm"
mv "$SPLIT"/*.wasm "$SPLIT/__wasm_split.js" "$STAGE/assets/"
rmdir "$SPLIT"
# --merge-similar-functions before -Oz: folds the many near-identical monomorphised functions
# (one per view or closure type) into one with the differing constants as parameters: -2.3 %
# raw, -1.3 % gzip on top of -Oz (docs/BENCHMARKS.md); wasm-opt takes no longer with it.
# Exports (what the chunks import) and the shared table stay as they are, so every module can
# be optimised on its own. (wasm-opt warns once per module about the name section's label
# names, which wasm-split-cli writes and binaryen does not read; the names are dropped anyway.)
for wasm in "$STAGE"/assets/*.wasm; do
  "$WASM_OPT" --merge-similar-functions -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-reference-types --enable-mutable-globals --enable-multivalue \
    --strip-producers --strip-debug "$wasm" -o "${wasm%.wasm}.opt" \
    2> >(grep -v '^warning: unknown name subsection with id 3 at' >&2)
  mv "${wasm%.wasm}.opt" "$wasm"
done
# The chunks go under assets/<build id>/ (a hash of this build's modules), and the loader asks
# for them there: a tab opened before the collector's UI was replaced then gets a 404 for its
# chunks and says the page could not be loaded, instead of running another build's chunk
# against its own main module (their function tables would not match).
BUILD_ID="$(cat "$STAGE"/assets/*.wasm | sha256sum | cut -c1-16)"
mkdir "$STAGE/assets/$BUILD_ID"
CHUNK_COUNT=0
for wasm in "$STAGE"/assets/*.wasm; do
  [ "$wasm" = "$STAGE/assets/${NAME}_bg.wasm" ] && continue
  mv "$wasm" "$STAGE/assets/$BUILD_ID/"
  CHUNK_COUNT=$((CHUNK_COUNT + 1))
done
sed -i "s#new URL(\"\./\([A-Za-z0-9_.-]*\.wasm\)\"#new URL(\"./$BUILD_ID/\1\"#" "$STAGE/assets/__wasm_split.js"
if [ "$(grep -c "new URL(\"\./$BUILD_ID/" "$STAGE/assets/__wasm_split.js")" != "$CHUNK_COUNT" ]; then
  echo "build-ui: __wasm_split.js does not name the $CHUNK_COUNT chunks as expected" >&2
  exit 1
fi
cp admin-ui/index.html "$STAGE/"
cp admin-ui/boot.js admin-ui/style.css admin-ui/favicon.svg "$STAGE/assets/"
# -n: no name or time in the header, so equal input gives equal bytes (and ETags).
find "$STAGE" -type f ! -name '*.gz' -exec gzip -9 -n -k -f {} \;
date -u +%FT%TZ > "$STAGE/.stamp"

gz() { wc -c < "$1.gz"; }
MAIN="$STAGE/assets/${NAME}_bg.wasm"
MAIN_GZ="$(gz "$MAIN")"
CHUNKS_RAW=0
CHUNKS_GZ=0
CHUNK_LINES=""
for wasm in "$STAGE/assets/$BUILD_ID"/*.wasm; do
  CHUNKS_RAW=$((CHUNKS_RAW + $(wc -c < "$wasm")))
  CHUNKS_GZ=$((CHUNKS_GZ + $(gz "$wasm")))
  CHUNK_LINES+="$(printf '    %-44s %9d B raw, %8d B gzip' "$(basename "$wasm")" "$(wc -c < "$wasm")" "$(gz "$wasm")")"$'\n'
done
if [ "$MAIN_GZ" -gt "$BUDGET" ]; then
  echo "build-ui: the main wasm module is $MAIN_GZ B gzip, over its budget of $BUDGET B" \
    "(UI_BUDGET_GZIP); this build is left in $STAGE" >&2
  exit 1
fi
rm -rf "$OUT"
mv "$STAGE" "$OUT"

MAIN="$OUT/assets/${NAME}_bg.wasm"
JS=("$OUT/assets/$NAME.js" "$OUT/assets/__wasm_split.js" "$OUT/assets/boot.js")
echo "admin UI -> $OUT"
echo "  main wasm: $(wc -c < "$MAIN") B raw, $MAIN_GZ B gzip -9 -n (budget $BUDGET B)"
echo "  chunks:    $CHUNKS_RAW B raw, $CHUNKS_GZ B gzip in assets/$BUILD_ID (fetched on the first visit of their pages)"
printf '%s' "$CHUNK_LINES"
echo "  all wasm:  $(( $(wc -c < "$MAIN") + CHUNKS_RAW )) B raw, $((MAIN_GZ + CHUNKS_GZ)) B gzip"
echo "  js:        $(cat "${JS[@]}" | wc -c) B raw, $(( $(gz "${JS[0]}") + $(gz "${JS[1]}") + $(gz "${JS[2]}") )) B gzip"
echo "  css:       $(wc -c < "$OUT/assets/style.css") B raw, $(gz "$OUT/assets/style.css") B gzip"
