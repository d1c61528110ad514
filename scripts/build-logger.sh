#!/usr/bin/env bash
# Builds the browser logger into the npm package logger-wasm/pkg (@tracewire/logger):
# wasm32 build in the size profile, wasm-snip of the panic machinery, wasm-bindgen --target
# web, wasm-opt -Oz --converge, then once more after --flatten --rereloop (binaryen 132 from
# npm, never Debian's 108 which breaks wasm-bindgen output), minified import/export names.
# wasm-bindgen's JS glue is not shipped: the hand-written loader js/wasm.js replaces it, after
# a check that the glue and the module still have the ABI the loader implements
# (js/wasm-abi.txt, scripts/logger-abi.mjs; the build fails otherwise). The JS entry (with
# js/wasm.js, js/host.js and js/encode.js) is bundled into one minified index.js (esbuild);
# then types, package.json and README, and the gzip sizes are printed: the whole package
# (wasm + index.js) and the module with its loader glue alone.
# Honours CARGO_TARGET_DIR (default: the workspace's target/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WASM_OPT="$("$ROOT/scripts/ensure-toolchain.sh" --print-wasm-opt)"
ESBUILD="$("$ROOT/scripts/ensure-toolchain.sh" --print-esbuild)"
WASM_SNIP="$("$ROOT/scripts/ensure-toolchain.sh" --print-wasm-snip)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PKG="$ROOT/logger-wasm/pkg"
NAME=tracewire_logger

# strip=false keeps the target_features section wasm-bindgen reads; wasm-opt drops names anyway.
CARGO_PROFILE_WASM_RELEASE_STRIP=false \
  cargo build --quiet --profile wasm-release --target wasm32-unknown-unknown -p tracewire-logger
rm -rf "$PKG"
mkdir -p "$PKG"
# Panics abort (panic = "abort") and none crosses the boundary, but std's panic handler still
# keeps core::fmt alive (~2 KB gzip): wasm-snip turns std/core::panicking into `unreachable`,
# which traps just as the abort would, and wasm-opt then drops what only they used. The -p
# patterns (v0-mangled names) are std/core/alloc functions that only format a panic message and
# never return (`-> !`: slice and str bounds, Vec::remove's index check, allocation failure,
# thread-local access after destruction); they are not under `panicking`, so the first option
# leaves them.
mkdir -p "$PKG/.snip"
"$WASM_SNIP" --snip-rust-panicking-code \
  -p '5slice5index16slice_index_fail$' -p '3str16slice_error_fail$' \
  -p '7raw_vec12handle_error$' -p '7raw_vec17capacity_overflow$' \
  -p '5alloc18handle_alloc_error$' -p '6remove13assert_failed$' \
  -p '6thread5local18panic_access_error$' \
  -o "$PKG/.snip/$NAME.wasm" "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/$NAME.wasm"
wasm-bindgen --target web --no-typescript --out-dir "$PKG" "$PKG/.snip/$NAME.wasm"
# The module keeps only the exports the loader uses (`wasm.<name>` in js/wasm.js): wasm-bindgen
# also exports its realloc, two globals and its externref table, which js/wasm.js never touches,
# and what only they reach is then dropped by wasm-opt.
node -e '
  const js = require("fs").readFileSync(process.argv[1], "utf8");
  const used = [...new Set([...js.matchAll(/\bwasm\.(\w+)/g)].map((m) => m[1]))];
  const nodes = used.map((name) => ({ name, export: name }));
  nodes.push({ name: "js/wasm.js", root: true, reaches: used });
  console.log(JSON.stringify(nodes));
' "$ROOT/logger-wasm/js/wasm.js" > "$PKG/.snip/exports.json"
"$(dirname "$WASM_OPT")/wasm-metadce" --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-reference-types --enable-mutable-globals --enable-multivalue \
  --graph-file "$PKG/.snip/exports.json" "$PKG/${NAME}_bg.wasm" -o "$PKG/${NAME}_bg.wasm" > /dev/null
rm -rf "$PKG/.snip"
# --low-memory-unused (lets binaryen fold constant offsets into loads and stores): rustc's
# wasm32 layout puts the 1 MiB stack first, growing down from 1 MiB, with the data above it, so
# only a stack nearly 1 MiB deep would touch the low 1 KiB; the core's recursion is bounded
# (encoded.rs MAX_NESTING) and uses a few KiB.
"$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-mutable-globals --low-memory-unused \
  --strip-producers --strip-target-features \
  --converge --flatten --rereloop -Oz --converge --strip-debug "$PKG/${NAME}_bg.wasm" -o "$PKG/${NAME}_bg.opt.wasm"
if ! grep -q '(global $global$0 (mut i32) (i32.const 1048576))' <("$WASM_OPT" --enable-bulk-memory \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-reference-types \
    --enable-mutable-globals --enable-multivalue "$PKG/${NAME}_bg.opt.wasm" --print); then
  echo "build-logger: the module's stack no longer starts at 1 MiB below its data;" \
    "--low-memory-unused is not safe any more" >&2
  exit 1
fi
mv "$PKG/${NAME}_bg.opt.wasm" "$PKG/${NAME}_bg.wasm"
# Import and export names appear in the module and in the loader: wasm-bindgen's carry hashes
# (`__wbg_hostGet_b9932a4ebf048c26`). binaryen renames them to one or two letters and prints
# the mapping.
"$WASM_OPT" --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-mutable-globals --enable-multivalue \
  --minify-imports-and-exports-and-modules "$PKG/${NAME}_bg.wasm" -o "$PKG/${NAME}_bg.opt.wasm" \
  > "$PKG/names.json"
mv "$PKG/${NAME}_bg.opt.wasm" "$PKG/${NAME}_bg.wasm"
# The package's loader is js/wasm.js, not wasm-bindgen's generic glue (~1 KB gzip more). The
# glue is only read here: it and the shipped module's imports and exports must have the ABI
# js/wasm-abi.txt records (else the build fails with the diff, so a wasm-bindgen upgrade cannot
# break the package unnoticed), and wasm.js is written with the minified names.
mkdir -p "$PKG/.js"
node "$ROOT/scripts/logger-abi.mjs" "$PKG/${NAME}.js" "$PKG/names.json" "$PKG/${NAME}_bg.wasm" \
  "$ROOT/logger-wasm/js/wasm-abi.txt" "$ROOT/logger-wasm/js/wasm.js" "$PKG/.js/wasm.js" \
  "$PKG/wasm-abi.txt"
# The loader leaves wasm-bindgen's externref table empty: nothing in the module may read or
# fill a table except through call_indirect and funcref element segments.
"$WASM_OPT" --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-mutable-globals --enable-multivalue \
  "$PKG/${NAME}_bg.wasm" --print > "$PKG/module.wat"
if grep -m5 -E 'table\.(get|set|grow|size|fill|copy|init)|\(elem .*extern' "$PKG/module.wat"; then
  echo "build-logger: the module now uses a table directly (above); js/wasm.js must fill" \
    "wasm-bindgen's externref table as its glue does" >&2
  exit 1
fi
rm -r "$PKG/names.json" "$PKG/module.wat" "$PKG/${NAME}.js" "$PKG/snippets"
# One ES module: the entry and what it imports, minified; the loader and the entry share one
# host.js. esbuild keeps `new URL('…_bg.wasm', import.meta.url)` as written, so bundlers (Vite)
# still find the wasm.
cp "$ROOT/logger-wasm/js/index.js" "$ROOT/logger-wasm/js/host.js" "$ROOT/logger-wasm/js/encode.js" "$PKG/.js/"
"$ESBUILD" "$PKG/.js/index.js" --bundle --minify --format=esm --target=es2020 \
  --log-level=warning --outfile="$PKG/index.js"
# The loader alone (what stands in for wasm-bindgen's JS glue), minified the same way, for the
# module + glue figure below; it ships inside index.js.
"$ESBUILD" "$PKG/.js/wasm.js" --bundle --minify --format=esm --target=es2020 \
  --external:./host.js --log-level=warning --outfile="$PKG/.js/loader.min.js"
GLUE_GZ="$(gzip -9 -n -c "$PKG/.js/loader.min.js" | wc -c)"
rm -r "$PKG/.js"
if grep -Eo "__wbg|__wbindgen|${NAME}_bg\.js" "$PKG/index.js"; then
  echo "build-logger: $PKG/index.js still uses an unminified wasm-bindgen name (above)" >&2
  exit 1
fi
cp "$ROOT/logger-wasm/js/index.d.ts" "$PKG/"
cp "$ROOT/logger-wasm/js/README.md" "$PKG/README.md"

VERSION="$(awk -F'"' '/^version = / { print $2; exit }' "$ROOT/Cargo.toml")"
cat > "$PKG/package.json" <<JSON
{
  "name": "@tracewire/logger",
  "version": "$VERSION",
  "description": "Tracewire browser logger: batched, deduplicated, offline-safe logging and tracing, in Rust/WebAssembly.",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "main": "./index.js",
  "module": "./index.js",
  "types": "./index.d.ts",
  "exports": {
    ".": { "types": "./index.d.ts", "import": "./index.js", "default": "./index.js" },
    "./${NAME}_bg.wasm": "./${NAME}_bg.wasm",
    "./package.json": "./package.json"
  },
  "files": ["index.js", "index.d.ts", "${NAME}_bg.wasm", "README.md"],
  "sideEffects": ["./index.js"]
}
JSON

# -n: no file name in the gzip header, as HTTP compression sends it.
gz() { gzip -9 -n -c "$@" | wc -c; }
WASM_GZ="$(gz "$PKG/${NAME}_bg.wasm")"
JS_GZ="$(gz "$PKG/index.js")"
echo "@tracewire/logger $VERSION -> $PKG"
echo "  wasm: $(wc -c < "$PKG/${NAME}_bg.wasm") B raw, $WASM_GZ B gzip -9 -n"
echo "  js:   $(wc -c < "$PKG/index.js") B raw, $JS_GZ B gzip -9 -n (entry + loader, bundled and minified)"
echo "  total gzip: $((WASM_GZ + JS_GZ)) B"
echo "  module + loader glue (js/wasm.js alone, minified): $((WASM_GZ + GLUE_GZ)) B gzip -9 -n"
